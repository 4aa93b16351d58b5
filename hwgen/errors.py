"""One error type for everything a user can fix; the CLI prints it as one line and exits 2."""


class HwgenError(Exception):
    """A problem with the user's input or environment, with a message that says what to fix."""


class ToolMissing(HwgenError):
    """An external tool (yosys, iverilog, vitis_hls, ...) is not installed or not on PATH."""


_HINTS = {
    "ENOSPC": "the disk is full",
    "EDQUOT": "the disk quota is exhausted",
    "EFBIG": "file too large (a file-size limit is set, see `ulimit -f`)",
    "EROFS": "read-only file system",
    "EACCES": "permission denied",
    "EPERM": "operation not permitted",
    "ENAMETOOLONG": "file name too long",
    "ENOENT": "no such file or directory",
    "ENOTDIR": "a part of the path is not a directory",
    "EISDIR": "is a directory",
}


def os_error_message(exc: OSError) -> str:
    """One line naming the path and the cause of an OS error (disk full, permission, ...)."""
    import errno as _errno
    import re as _re

    listed = exc.args[0] if exc.args and isinstance(exc.args[0], list) else None
    if listed and isinstance(listed[0], tuple) and len(listed[0]) == 3:  # shutil.Error from copytree
        _src, dst, why = listed[0]
        m = _re.search(r"\[Errno (\d+)\]", str(why))
        inner = OSError(int(m.group(1)), str(why)) if m else OSError(str(why))
        inner.filename = dst
        more = f" (and {len(listed) - 1} more file(s))" if len(listed) > 1 else ""
        return os_error_message(inner) + more
    code = _errno.errorcode.get(exc.errno or -1, "")
    cause = _HINTS.get(code) or (exc.strerror or str(exc) or type(exc).__name__)
    paths = [p for p in (exc.filename, getattr(exc, "filename2", None)) if p]
    where = " -> ".join(str(p) for p in paths)
    text = f"{where}: {cause}" if where else cause
    if code and code not in text:
        text += f" ({code})"
    return " ".join(text.split())
