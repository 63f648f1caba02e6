"""Standard-library data objects as ML code pickles them (configs, metadata, histories),
at every protocol: protocols 0-2 write the Python 2 names (__builtin__, copy_reg, _codecs)."""
import argparse
import collections
import datetime
import decimal
import enum
import fractions
import pathlib
import re
import types
import uuid


class Color(enum.Enum):
    RED = 1


def _obj():
    return {
        "list": [1, 2.5, "x", b"bytes", bytearray(b"ba"), None, True, complex(1, 2)],
        "tuple": (1, 2), "set": {1, 2}, "frozenset": frozenset([3]),
        "range": range(3), "slice": slice(1, 5, 2),
        "ordered": collections.OrderedDict(a=1), "default": collections.defaultdict(list, {"a": [1]}),
        "deque": collections.deque([1, 2], maxlen=5), "counter": collections.Counter("aab"),
        "date": datetime.date(2024, 1, 2), "dt": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "time": datetime.time(1, 2), "delta": datetime.timedelta(days=1, seconds=3),
        "tz": datetime.timezone(datetime.timedelta(hours=2)),
        "decimal": decimal.Decimal("1.25"), "fraction": fractions.Fraction(1, 3),
        "uuid": uuid.UUID(int=1), "ns": argparse.Namespace(lr=0.1, epochs=3),
        "simple": types.SimpleNamespace(a=1), "path": pathlib.PurePosixPath("data/train.csv"),
        "ppath": pathlib.PosixPath("runs/exp1"), "re": re.compile(r"\w+"),
        "ellipsis": Ellipsis, "notimpl": NotImplemented, "nonetype": type(None),
    }


def s_stdlib(ctx):
    for proto in range(6):
        ctx.dump("python", f"stdlib_objects_protocol{proto}.pkl", _obj(), protocol=proto,
                 note=f"standard-library containers, dates, Namespace, paths at protocol {proto}")


def s_zoneinfo(ctx):
    import zoneinfo

    try:
        z = zoneinfo.ZoneInfo("UTC")
    except Exception:
        return
    ctx.dump("python", "zoneinfo_datetime.pkl", datetime.datetime(2024, 1, 1, tzinfo=z), protocol=4,
             note="datetime with a zoneinfo.ZoneInfo timezone")
