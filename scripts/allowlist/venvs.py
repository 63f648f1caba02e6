"""Creates one venv per envs/<name>.in and installs its pins.

    python scripts/allowlist/venvs.py --root DIR [NAME ...]

For each env, envs/<name>.txt (the full frozen set, committed) is installed when it exists;
otherwise envs/<name>.in is installed and `pip freeze` is written to envs/<name>.txt.
A failed install is written to envs/<name>.error (the tail of pip's output) and reported;
it is never papered over.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ENVS = os.path.join(HERE, "envs")


def env_names():
    return sorted(f[:-3] for f in os.listdir(ENVS) if f.endswith(".in"))


def venv_dir(root, name):
    return os.path.join(root, "allowlist-" + name)


def python_of(root, name):
    return os.path.join(venv_dir(root, name), "bin", "python")


def setup(root, name, log):
    d = venv_dir(root, name)
    py = python_of(root, name)
    frozen = os.path.join(ENVS, name + ".txt")
    err = os.path.join(ENVS, name + ".error")
    if os.path.exists(py) and os.path.exists(os.path.join(d, ".allowlist-ok")):
        print(f"[{name}] present: {d}")
        return True
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", d], check=True)
    src = frozen if os.path.exists(frozen) else os.path.join(ENVS, name + ".in")
    cmd = [py, "-m", "pip", "install", "--no-input", "-r", src]
    if src == frozen:
        cmd.insert(4, "--no-deps")
    print(f"[{name}] pip install -r {os.path.basename(src)}")
    with open(log, "w") as fh:
        r = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = open(log).read().splitlines()[-40:]
        with open(err, "w") as fh:
            fh.write(f"pip install -r {os.path.basename(src)} failed (exit {r.returncode}):\n")
            fh.write("\n".join(tail) + "\n")
        print(f"[{name}] FAILED, see {err}")
        return False
    if src != frozen:
        out = subprocess.run([py, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True)
        lines = [l for l in out.stdout.splitlines() if l and not l.startswith(("pip==", "-e "))]
        with open(frozen, "w") as fh:
            fh.write(f"# frozen from {name}.in by venvs.py; installed with --no-deps\n")
            fh.write("\n".join(sorted(lines, key=str.lower)) + "\n")
    if os.path.exists(err):
        os.remove(err)
    open(os.path.join(d, ".allowlist-ok"), "w").close()
    print(f"[{name}] ok")
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True, help="folder that holds the venvs")
    ap.add_argument("--logs", default=None, help="folder for pip logs (default: ROOT)")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    names = a.names or env_names()
    logs = a.logs or a.root
    os.makedirs(logs, exist_ok=True)
    bad = [n for n in names if not setup(a.root, n, os.path.join(logs, f"allowlist-{n}.log"))]
    if bad:
        print("failed:", " ".join(bad))


if __name__ == "__main__":
    main()
