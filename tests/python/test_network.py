"""examples/example.py end to end in the test network (cli -- rtr -- srv): against the kernel's
TCP (`nc -l` in srv), as a Python 2-style copy through `tcpexposure script`, and against the
stateless responder once the `respond` verb exists."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from helpers import REPO, cli, has_verb, is_root, run_cli
from tcpexposure import py2compat

SRV = "10.77.1.2"
EXAMPLE = os.path.join(REPO, "examples", "example.py")


def python2_copy(text):
    """example.py as a Python 2 script would have it: print statements, str payload, old except/raise, octal."""
    out = []
    for line in text.splitlines():
        m = re.match(r'^(\s*)print\((.*)\)$', line)
        if m:
            body = m.group(2)
            line = m.group(1) + ("print " + body[:-len(', end=""')] + "," if body.endswith(', end=""') else "print " + body)
        line = line.replace('b"\\x12" * 512', '"\\x12" * 512')
        if line.startswith("    sys.exit(main(sys.argv))"):
            line = ("    UMASK = 0022\n    try:\n        sys.exit(main(sys.argv))\n"
                    "    except KeyboardInterrupt, e:\n        raise SystemExit, 130")
        out.append(line)
    return "\n".join(out) + "\n"


@unittest.skipUnless(is_root() and shutil.which("nc") and shutil.which("ip"), "needs root, nc and iproute2")
class ExampleInTestNetwork(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.name = "py%x" % (os.getpid() & 0xFFFF)
        run_cli("testbed", "up", "--name", cls.name, "-q", timeout=180)

    @classmethod
    def tearDownClass(cls):
        run_cli("testbed", "down", "--name", cls.name, "-q", check=False, timeout=180)

    def exec_in(self, host, *cmd, **kw):
        return cli() + ["testbed", "exec", "--name", self.name, host, "--"] + list(cmd)

    def run_against_nc(self, port, command):
        with tempfile.TemporaryFile() as received:
            nc = subprocess.Popen(self.exec_in("srv", "nc", "-l", SRV, str(port)), stdout=received, stderr=subprocess.PIPE)
            try:
                time.sleep(1.0)  # nc must be listening before the SYN arrives
                p = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                   env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "python")))
            finally:
                time.sleep(0.3)
                nc.kill()
                nc.wait()
            received.seek(0)
            return p, received.read()

    def check_run(self, p, data):
        self.assertEqual(p.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))
        lines = p.stdout.splitlines()
        self.assertTrue(any(re.match(r"10\.77\.0\.1\.\d+ > 10\.77\.1\.2\.\d+: Flags \[0x2\], seq 20000, ack 0, win 8192, "
                                     r"options \[MSS, 512, SACKOK, TIMESTAMP, 12345, 0, WSCALE, 3, NOP, \], length 0, "
                                     r"pktlen 60, iphdrlen 20, tcphdrlen 40 checksum 0x[0-9a-f]+$", l) for l in lines), p.stdout)
        self.assertTrue(any("Flags [0x12]" in l for l in lines), "no SYN-ACK printed:\n" + p.stdout)
        self.assertIn("acknowledged: [20513]", p.stdout)
        self.assertEqual(data, b"\x12" * 512)  # the kernel delivered our 512 bytes to nc

    def test_example_against_kernel_listener(self):
        cmd = self.exec_in("cli", sys.executable, EXAMPLE, SRV, "8080")
        p, data = self.run_against_nc(8080, cmd)
        self.check_run(p, data)

    def test_python2_copy_through_tcpexposure_script(self):
        with open(EXAMPLE) as f:
            old = python2_copy(f.read())
        self.assertTrue(py2compat.needs_conversion(old), "the copy should be Python 2 only")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "example_py2.py")
            with open(path, "w") as f:
                f.write(old)
            cmd = self.exec_in("cli", *cli(), "script", path, SRV, "8081")
            p, data = self.run_against_nc(8081, cmd)
            self.check_run(p, data)
            with open(path) as f:
                self.assertEqual(f.read(), old)

    def test_example_against_responder(self):
        from tcpexposure import Responder
        responder = Responder(["--port", "80"], netns=self.name + "-srv")
        with responder:
            p = subprocess.run(self.exec_in("cli", sys.executable, EXAMPLE, SRV, "80"), capture_output=True, text=True,
                               timeout=120, env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "python")))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("seq 11259375, ack 20001, win 32768", p.stdout)  # ISN 0xabcdef, window 32768
        self.assertIn("acknowledged: [20513]", p.stdout)


if __name__ == "__main__":
    unittest.main()
