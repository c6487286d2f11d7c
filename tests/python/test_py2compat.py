"""The in-memory Python 2 -> 3 conversion used by `tcpexposure script`."""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

from tcpexposure import py2compat

PY2 = textwrap.dedent('''\
    import sys
    x = 0777
    y = 10L + 0x1fL
    if x <> 1: print "octal", x, `y`
    print
    print "no newline",
    print >>sys.stderr, "err", x
    d = {1: 2}
    print d.has_key(1), [i for i in xrange(3)], long(5)
    try:
        raise ValueError, "boom"
    except ValueError, e:
        print "caught", e
    for k, v in d.iteritems(): print k, v
    print ("a %d" % 3), 4
    def f(): print "in f"; return 1
    f()
    ''')


class Py2Compat(unittest.TestCase):
    def test_constructs(self):
        out = py2compat.convert(PY2)
        self.assertIn("x = 0o777", out)
        self.assertIn("y = 10 + 0x1f", out)
        self.assertIn("if x != 1: print( \"octal\", x, repr(y))", out)
        self.assertIn('print( "no newline", end=" ")', out)
        self.assertIn('print( "err", x, file=sys.stderr)', out)
        self.assertIn("raise ValueError( \"boom\")", out)
        self.assertIn("except ValueError as e:", out)
        self.assertIn("d.__contains__(1)", out)
        self.assertIn("range(3)", out)
        self.assertEqual(out.count("\n"), PY2.count("\n"))  # line numbers are kept
        compile(out, "<converted>", "exec")

    def test_python3_is_left_alone(self):
        src = "print('x', end='')\nprint = 3\n"
        self.assertFalse(py2compat.needs_conversion(src))
        self.assertTrue(py2compat.needs_conversion(PY2))

    def test_runs_with_the_output_python2_gives(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "old.py")
            with open(path, "w") as f:
                f.write(PY2)
            env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "python"))
            p = subprocess.run([sys.executable, "-m", "tcpexposure.run", path, "arg"], capture_output=True, text=True,
                               env=env, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, "octal 511 41\n\nno newline True [0, 1, 2] 5\ncaught boom\n1 2\na 3 4\nin f\n")
            self.assertEqual(p.stderr, "err 511\n")
            with open(path) as f:
                self.assertEqual(f.read(), PY2)  # never changed


if __name__ == "__main__":
    unittest.main()
