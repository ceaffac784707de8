"""Whether a file or folder the product keeps is private to the user running it: not a symbolic link, owned
by this user, a file closed to group and others, a folder that no one else may write into. The web app's
snapshot folder and the access log are held to it, so another user cannot plant, read or empty them."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def not_private(path: Path) -> str | None:
    """Why ``path`` (a folder or file) is not private to this user, in words; None when it is."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if st.st_uid != os.getuid():
        return f"owned by another user (uid {st.st_uid})"
    closed = 0o077 if stat.S_ISREG(st.st_mode) else 0o022  # a file: no access at all; a folder: no writing
    if st.st_mode & closed:
        return f"open to group or others (mode {stat.S_IMODE(st.st_mode):o})"
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        return f"has {st.st_nlink - 1} other name(s) (hard links) that no check on this name covers"
    return None


def unsafe_ancestor(path: Path) -> str | None:
    """Why a folder above ``path`` lets another user swap ``path``'s folder for one of theirs, in words; None when
    none does. Each must be owned by this user or root and not writable by group or others — unless it has the
    sticky bit (``/tmp``: no one may rename another user's entry there)."""
    for folder in Path(os.path.abspath(path)).parents:
        try:
            st = folder.stat()
        except OSError as exc:
            return f"{folder} cannot be examined ({exc.strerror})"
        if st.st_uid not in (0, os.getuid()):
            return f"{folder} is owned by another user (uid {st.st_uid})"
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            return f"{folder} is writable by group or others without the sticky bit (mode {stat.S_IMODE(st.st_mode):o})"
    return None
