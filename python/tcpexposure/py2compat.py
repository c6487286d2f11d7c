"""Converts Python 2-era scripts to Python 3 in memory (the original file is never changed).

Token-based, line numbers preserved: ``print x`` / ``print x,`` / ``print >>f, x``, ``except E, e``,
``raise E, "msg"``, ``0777`` octal and ``10L`` long literals, ``<>``, backticks, ``d.has_key(k)``,
``xrange``, ``long``, ``unicode``, ``raw_input``, ``dict.iteritems()`` and friends. It does not
change the meaning of ``/`` on integers (Python 3 divides exactly; use ``//``).
"""
from __future__ import annotations

import io
import tokenize

_RENAMES = {"xrange": "range", "long": "int", "unicode": "str", "raw_input": "input", "basestring": "str"}
_METHODS = {"has_key": "__contains__", "iteritems": "items", "itervalues": "values", "iterkeys": "keys"}
_STATEMENT_START = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT}


def needs_conversion(source: str, filename: str = "<script>") -> bool:
    """True when the source does not compile as Python 3."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
        return False
    except SyntaxError:
        return True


def convert(source: str) -> str:
    """The source with the Python 2 constructs above rewritten; raises SyntaxError when it cannot be tokenized."""
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
                if not (t.type == tokenize.ERRORTOKEN and t.string.isspace())]
    except (tokenize.TokenError, IndentationError) as e:
        raise SyntaxError(f"cannot convert this Python 2 script: {e}") from None
    edits: list[tuple[tuple[int, int], tuple[int, int], str]] = []

    def replace(tok, text):
        edits.append((tok.start, tok.end, text))

    def insert(pos, text):
        edits.append((pos, pos, text))

    def statement_end(i):
        """Index of the token ending the simple statement starting at i (NEWLINE, ';' or comment at depth 0)."""
        depth = 0
        j = i
        while j < len(toks):
            t = toks[j]
            if t.type == tokenize.OP and t.string in "([{":
                depth += 1
            elif t.type == tokenize.OP and t.string in ")]}":
                depth -= 1
            elif depth <= 0 and (t.type in (tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER)
                                 or (t.type == tokenize.OP and t.string == ";")):
                return j
            j += 1
        return j

    def top_level_commas(i, end):
        depth = 0
        out = []
        for j in range(i, end):
            t = toks[j]
            if t.type == tokenize.OP and t.string in "([{":
                depth += 1
            elif t.type == tokenize.OP and t.string in ")]}":
                depth -= 1
            elif depth == 0 and t.type == tokenize.OP and t.string == ",":
                out.append(j)
        return out

    backtick_open = True
    i = 0
    while i < len(toks):
        t = toks[i]
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        at_statement_start = prev is None or prev.type in _STATEMENT_START or (
            prev.type == tokenize.OP and prev.string in (":", ";") and prev.end[0] == t.start[0])
        if t.type == tokenize.NAME and t.string == "print" and at_statement_start and not (
                nxt and nxt.type == tokenize.OP and nxt.string in ("(", "=", ".", "[", ")", ",")
                and not _print_tuple(toks, i + 1)):
            end = statement_end(i + 1)
            last = toks[end - 1]
            args_first = i + 1
            file_arg = None
            if nxt and nxt.type == tokenize.OP and nxt.string == ">>":
                commas = top_level_commas(i + 2, end)
                stop = commas[0] if commas else end
                file_arg = (toks[i + 2].start, toks[stop - 1].end)
                args_first = stop + 1 if commas else end
            trailing = end - 1 > i and toks[end - 1].type == tokenize.OP and toks[end - 1].string == ","
            extra = []
            if trailing:
                extra.append('end=" "')
            if file_arg:
                extra.append("file=" + _text(source, *file_arg))
            if file_arg:
                # print >>f, a, b  ->  print(a, b, file=f)
                edits.append((nxt.start, toks[args_first].start if args_first < end else last.end, ""))
            if trailing:
                replace(toks[end - 1], "")
            has_args = args_first < end and not (trailing and args_first == end - 1)
            sep = ", " if has_args and extra else ""
            insert(t.end, "(")
            insert(toks[end - 1].end if end - 1 > i else t.end, sep + ", ".join(extra) + ")")
            i += 2 if file_arg else 1  # the arguments may hold more Python 2 (backticks, has_key)
            continue
        if t.type == tokenize.NAME and t.string == "except":
            end = _find_op(toks, i + 1, ":")
            commas = top_level_commas(i + 1, end)
            if len(commas) == 1:
                replace(toks[commas[0]], " as")
        elif t.type == tokenize.NAME and t.string == "raise":
            end = statement_end(i + 1)
            commas = top_level_commas(i + 1, end)
            if len(commas) in (1, 2):
                replace(toks[commas[0]], "(")
                if len(commas) == 2:  # raise E, V, traceback: the traceback is dropped
                    edits.append((toks[commas[1]].start, toks[end - 1].end, ")"))
                else:
                    insert(toks[end - 1].end, ")")
        elif t.type == tokenize.NUMBER:
            if t.string == "0" and nxt and nxt.type == tokenize.NUMBER and nxt.start == t.end and nxt.string.isdigit():
                replace(t, "0o")
                i += 1
            elif nxt and nxt.type == tokenize.NAME and nxt.string in ("L", "l") and nxt.start == t.end:
                replace(nxt, "")
                i += 1
            elif len(t.string) > 1 and t.string[0] == "0" and t.string.isdigit():
                replace(t, "0o" + t.string[1:])
        elif t.type == tokenize.OP and t.string == "<" and nxt and nxt.type == tokenize.OP and nxt.string == ">" \
                and nxt.start == t.end:
            edits.append((t.start, nxt.end, "!="))
            i += 1
        elif t.type == tokenize.ERRORTOKEN and t.string == "`":
            replace(t, "repr(" if backtick_open else ")")
            backtick_open = not backtick_open
        elif t.type == tokenize.NAME and t.string in _RENAMES and not (prev and prev.type == tokenize.OP and prev.string == "."):
            replace(t, _RENAMES[t.string])
        elif t.type == tokenize.NAME and t.string in _METHODS and prev and prev.type == tokenize.OP and prev.string == ".":
            replace(t, _METHODS[t.string])
        i += 1
    return _apply(source, edits)


def _print_tuple(toks, i):
    """``print (a), b``: parentheses that do not span the whole statement still make a print statement."""
    if toks[i].string != "(":
        return False
    depth = 0
    for j in range(i, len(toks)):
        s = toks[j].string
        if toks[j].type == tokenize.OP and s in "([{":
            depth += 1
        elif toks[j].type == tokenize.OP and s in ")]}":
            depth -= 1
            if depth == 0:
                after = toks[j + 1] if j + 1 < len(toks) else None
                return bool(after and after.type == tokenize.OP and after.string in (",", "%", "+", "*"))
    return False


def _find_op(toks, i, op):
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.type == tokenize.OP and t.string in "([{":
            depth += 1
        elif t.type == tokenize.OP and t.string in ")]}":
            depth -= 1
        elif depth == 0 and t.type == tokenize.OP and t.string == op:
            return j
        elif t.type == tokenize.NEWLINE:
            return j
    return len(toks)


def _text(source, start, end):
    lines = source.splitlines(keepends=True)
    if start[0] == end[0]:
        return lines[start[0] - 1][start[1]:end[1]]
    return lines[start[0] - 1][start[1]:] + "".join(lines[start[0]:end[0] - 1]) + lines[end[0] - 1][:end[1]]


def _apply(source, edits):
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def at(pos):
        row, col = pos
        return offsets[row - 1] + col if row - 1 < len(offsets) else len(source)

    out = source
    # Apply from the end so earlier offsets stay valid; inserts at one spot keep their order.
    for n, (start, end, text) in sorted(enumerate(edits), key=lambda e: (at(e[1][0]), e[0]), reverse=True):
        out = out[:at(start)] + text + out[at(end):]
    return out
