"""tcpsrplib: the seed slides' spelling of tcpsrlib; the same module."""
import sys as _sys

import tcpsrlib as _tcpsrlib

_sys.modules[__name__] = _tcpsrlib
