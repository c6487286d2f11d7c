"""Runs a script the way `tcpexposure script FILE [ARGS]` does: Python 2-era syntax converted in
memory (py2compat), sys.argv and sys.path as if run directly, the file itself left untouched.

    python3 -m tcpexposure.run FILE [ARGS...]
"""
import os
import sys

from tcpexposure import py2compat


def main(argv):
    if not argv:
        sys.stderr.write("usage: python3 -m tcpexposure.run FILE.py [ARGS...]\n")
        return 2
    path = argv[0]
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        sys.stderr.write(f"Cannot read {path}: {e.strerror}.\n")
        return 1
    source = raw.decode("utf-8", "surrogateescape") if not raw.startswith(b"\xef\xbb\xbf") else raw[3:].decode("utf-8")
    if py2compat.needs_conversion(source, path):
        try:
            source = py2compat.convert(source)
        except SyntaxError as e:
            sys.stderr.write(f"{path}: {e}\n")
            return 1
        if os.environ.get("TCPEXPOSURE_SHOW_CONVERTED"):
            sys.stderr.write(source)
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        sys.stderr.write(f"{path}:{e.lineno}: {e.msg}\n    {(e.text or '').rstrip()}\n")
        return 1
    sys.argv = [path] + list(argv[1:])
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    main_globals = {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__}
    import types
    module = types.ModuleType("__main__")
    module.__dict__.update(main_globals)
    sys.modules["__main__"] = module
    exec(code, module.__dict__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
