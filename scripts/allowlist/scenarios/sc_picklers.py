"""dill and cloudpickle writing ordinary objects (and functions, which they serialise as code)."""
REQUIRES = []


def _payload():
    import collections

    return {"config": {"lr": 0.1, "layers": [4, 4]}, "history": collections.OrderedDict(loss=[1.0, 0.5])}


def _fn(x):
    return x + 1


def s_dill(ctx):
    import dill

    p = ctx.path("dill", "dill_plain_objects.pkl")
    with open(p, "wb") as fh:
        dill.dump(_payload(), fh)
    ctx.add(p, "dill", "dill.dump", "dict, OrderedDict written by dill.dump")
    p = ctx.path("dill", "dill_lambda.pkl")
    with open(p, "wb") as fh:
        dill.dump({"f": lambda x: x * 2}, fh)
    ctx.add(p, "dill", "dill.dump", "a lambda (serialised as code)", corpus=False)


def s_cloudpickle(ctx):
    import cloudpickle

    p = ctx.path("cloudpickle", "cloudpickle_plain_objects.pkl")
    with open(p, "wb") as fh:
        cloudpickle.dump(_payload(), fh)
    ctx.add(p, "cloudpickle", "cloudpickle.dump", "dict, OrderedDict written by cloudpickle.dump")
    p = ctx.path("cloudpickle", "cloudpickle_lambda.pkl")
    with open(p, "wb") as fh:
        cloudpickle.dump({"f": lambda x: x * 2}, fh)
    ctx.add(p, "cloudpickle", "cloudpickle.dump", "a lambda (serialised as code)", corpus=False)
