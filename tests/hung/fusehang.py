#!/usr/bin/env python3
"""Runs a command beside a FUSE filesystem that never answers.

Usage: fusehang.py MOUNTPOINT -- COMMAND...

In a private mount namespace of its own (the host's mounts are untouched),
opens /dev/fuse, mounts it on MOUNTPOINT and never reads a request: every
access to the mount (even stat of the mount point) blocks in the kernel,
as on an NFS hard mount whose server is gone. Then runs COMMAND with a
wall-clock limit of 60 s and exits with its status (124 if it had to be
killed), after aborting the connection so nothing stays blocked.
"""
import ctypes
import os
import subprocess
import sys

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18


def main():
    sep = sys.argv.index("--")
    mountpoint, command = sys.argv[1], sys.argv[sep + 1 :]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        sys.exit("unshare: %s" % os.strerror(ctypes.get_errno()))
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        sys.exit("make-private: %s" % os.strerror(ctypes.get_errno()))
    os.makedirs(mountpoint, exist_ok=True)
    fd = os.open("/dev/fuse", os.O_RDWR)
    opts = "fd=%d,rootmode=40000,user_id=0,group_id=0" % fd
    if libc.mount(b"diag-hung", mountpoint.encode(), b"fuse", 0, opts.encode()) != 0:
        sys.exit("mount fuse: %s" % os.strerror(ctypes.get_errno()))
    status = 124
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        try:
            status = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    finally:
        # Closing the device aborts the connection: blocked calls return.
        os.close(fd)
        libc.umount2(mountpoint.encode(), 2)  # MNT_DETACH
    sys.exit(status)


if __name__ == "__main__":
    main()
