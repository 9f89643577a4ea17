//! Opening an input *beneath* its source's root, never outside it.
//!
//! A bundle, a sosreport or a `--root` tree comes from another machine and
//! may be hostile: `proc/mdstat -> /etc/shadow` in a bundle directory must
//! not make diag (running as root) read and echo the analysing host's
//! shadow file. Every read of such a source therefore resolves its name
//! component by component inside the root:
//!
//! - [`Confine::Beneath`] (bundles, sosreports): a symbolic link may point
//!   anywhere *inside* the tree (sos stores `proc/mounts -> self/mounts`);
//!   one that leaves it (an absolute target, or `..` above the root) is
//!   refused with [`ReadError::Refused`], naming the link and its target.
//! - [`Confine::InRoot`] (`--root DIR`, a root filesystem mounted for
//!   inspection): the tree is resolved as `chroot(DIR)` would, so an
//!   absolute link (`etc/resolv.conf -> /run/…`) means `DIR/run/…`, and
//!   `..` stops at `DIR`. Nothing outside `DIR` is ever reached.
//!
//! The kernel does this itself with `openat2(2)` and `RESOLVE_BENEATH` or
//! `RESOLVE_IN_ROOT` (Linux 5.6+), race-free. Where `openat2` is missing
//! (older kernels, seccomp filters that answer `ENOSYS`/`EPERM`), the same
//! rules are applied here: each component is opened with `O_PATH |
//! O_NOFOLLOW` relative to the previous one, links are read with
//! `readlinkat` and resolved against the directories already opened, so a
//! component swapped for a link during the walk is still seen as a link.
//! Magic links (`/proc/PID/fd/*`) are never followed.

use super::ReadError;
use nix::errno::Errno;
use nix::fcntl::{self, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{Mode, SFlag};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

/// How a source's symbolic links are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confine {
    /// Links inside the tree are followed; one that leaves it is refused.
    Beneath,
    /// The tree is the root directory: absolute links and `..` stay in it.
    InRoot,
}

/// Symbolic links followed at most while resolving one name (as the
/// kernel's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Whether `openat2` works here: 0 unknown, 1 yes, 2 no.
static OPENAT2: AtomicU8 = AtomicU8::new(0);

/// Opens `name` (a canonical, `/`-separated relative name) below `root`
/// for reading, following symbolic links only as `confine` allows. A
/// directory is opened too (for listing). Errors as [`ReadError`].
pub(crate) fn open(root: &Path, name: &str, confine: Confine) -> Result<File, ReadError> {
    let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOCTTY;
    let try_openat2 = OPENAT2.load(Ordering::Relaxed) != 2;
    open_with(root, name, confine, flags, try_openat2).map(File::from)
}

/// Like [`open`], but an `O_PATH` descriptor: enough to `fstat` what
/// `name` is, without opening it (a FIFO or a device is not touched).
pub(crate) fn open_path(root: &Path, name: &str, confine: Confine) -> Result<OwnedFd, ReadError> {
    let flags = OFlag::O_PATH | OFlag::O_CLOEXEC;
    let try_openat2 = OPENAT2.load(Ordering::Relaxed) != 2;
    open_with(root, name, confine, flags, try_openat2)
}

/// [`open`] with `flags`, choosing whether `openat2` may be tried (tests
/// force the fallback resolver with `false`).
fn open_with(
    root: &Path,
    name: &str,
    confine: Confine,
    flags: OFlag,
    try_openat2: bool,
) -> Result<OwnedFd, ReadError> {
    let root_fd = fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ReadError::from_io(&e.into()))?;
    if try_openat2 {
        let resolve = ResolveFlag::RESOLVE_NO_MAGICLINKS
            | match confine {
                Confine::Beneath => ResolveFlag::RESOLVE_BENEATH,
                Confine::InRoot => ResolveFlag::RESOLVE_IN_ROOT,
            };
        let how = OpenHow::new().flags(flags).resolve(resolve);
        match fcntl::openat2(&root_fd, name, how) {
            Ok(fd) => {
                OPENAT2.store(1, Ordering::Relaxed);
                return Ok(fd);
            }
            // No openat2 here (kernel before 5.6, or a seccomp filter):
            // resolve by hand from now on.
            Err(Errno::ENOSYS) | Err(Errno::EPERM) | Err(Errno::E2BIG)
                if OPENAT2.load(Ordering::Relaxed) != 1 =>
            {
                OPENAT2.store(2, Ordering::Relaxed);
            }
            // A link leaves the root, or (EXDEV/ELOOP/EAGAIN) the kernel
            // would not resolve it confined: name the link by walking.
            Err(Errno::EXDEV) | Err(Errno::ELOOP) | Err(Errno::EAGAIN) => {}
            Err(errno) => return Err(ReadError::from_io(&errno.into())),
        }
    }
    resolve(&root_fd, name, confine, flags)
}

/// The in-process resolver: walks `name` from `root`, one component at a
/// time, never following a link the kernel would follow on its own.
fn resolve(
    root: &OwnedFd,
    name: &str,
    confine: Confine,
    flags: OFlag,
) -> Result<OwnedFd, ReadError> {
    let io = |errno: Errno| ReadError::from_io(&errno.into());
    // The directories opened so far, below the root (the root is `root`).
    let mut dirs: Vec<OwnedFd> = Vec::new();
    // The path walked so far, for messages.
    let mut walked: Vec<String> = Vec::new();
    // Components still to resolve, in reverse order (the next is last).
    let mut pending: Vec<String> = name.rsplit('/').map(str::to_string).collect();
    let mut links = 0usize;
    while let Some(part) = pending.pop() {
        let last = pending.is_empty();
        match part.as_str() {
            "" | "." => {
                if last {
                    return reopen(root, &dirs, flags).map_err(io);
                }
                continue;
            }
            ".." => {
                if dirs.pop().is_none() && confine == Confine::Beneath {
                    return Err(refused(&walked, "..", name));
                }
                walked.pop();
                if last {
                    return reopen(root, &dirs, flags).map_err(io);
                }
                continue;
            }
            _ => {}
        }
        let parent = dirs.last().unwrap_or(root);
        let o_path = flags.contains(OFlag::O_PATH);
        if last && !o_path {
            // The input itself: opened for reading without following a
            // link (ELOOP says it is one, resolved below).
            match fcntl::openat(
                parent,
                part.as_str(),
                flags | OFlag::O_NOFOLLOW,
                Mode::empty(),
            ) {
                Ok(fd) => return Ok(fd),
                Err(Errno::ELOOP) => {}
                Err(errno) => return Err(io(errno)),
            }
        }
        let fd = fcntl::openat(
            parent,
            part.as_str(),
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(io)?;
        let stat = nix::sys::stat::fstat(&fd).map_err(io)?;
        let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
        if kind == SFlag::S_IFLNK {
            links += 1;
            if links > MAX_LINKS {
                return Err(ReadError::Refused(format!(
                    "{name}: more than {MAX_LINKS} symbolic links"
                )));
            }
            let target = fcntl::readlinkat(&fd, "").map_err(io)?;
            let target = target.to_string_lossy().into_owned();
            if target.starts_with('/') {
                match confine {
                    Confine::Beneath => {
                        walked.push(part);
                        return Err(refused(&walked, &target, name));
                    }
                    Confine::InRoot => {
                        dirs.clear();
                        walked.clear();
                    }
                }
            }
            // The link's components come next, before what followed it.
            pending.extend(target.rsplit('/').map(str::to_string));
            // A link as the last component still names what it points at.
            continue;
        }
        walked.push(part);
        if last {
            if o_path {
                return Ok(fd);
            }
            // It was a link when opened for reading and is none now: it
            // is changing under us.
            return Err(io(Errno::ELOOP));
        }
        if kind != SFlag::S_IFDIR {
            return Err(ReadError::NotFound);
        }
        dirs.push(fd);
    }
    reopen(root, &dirs, flags).map_err(io)
}

/// Opens the directory reached so far for reading (an `O_PATH`
/// descriptor serves as the directory to open `.` in).
fn reopen(root: &OwnedFd, dirs: &[OwnedFd], flags: OFlag) -> Result<OwnedFd, Errno> {
    fcntl::openat(
        dirs.last().unwrap_or(root),
        ".",
        flags | OFlag::O_DIRECTORY,
        Mode::empty(),
    )
}

fn refused(walked: &[String], target: &str, name: &str) -> ReadError {
    ReadError::Refused(format!(
        "{name}: the symbolic link {} points at {target:?}, outside the tree; not followed",
        walked.join("/")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    fn read(root: &Path, name: &str, confine: Confine, openat2: bool) -> Result<String, ReadError> {
        let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC;
        let mut file = File::from(open_with(root, name, confine, flags, openat2)?);
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|e| ReadError::from_io(&e))?;
        Ok(text)
    }

    /// A tree with links inside it, links out of it, and a file outside.
    fn tree() -> (tempfile::TempDir, std::path::PathBuf) {
        let top = tempfile::tempdir().expect("tempdir");
        let outside = top.path().join("secret");
        std::fs::write(&outside, "root:*:secret\n").expect("write");
        let root = top.path().join("bundle");
        std::fs::create_dir_all(root.join("proc/4242/net")).expect("mkdir");
        std::fs::create_dir_all(root.join("etc")).expect("mkdir");
        std::fs::write(root.join("proc/4242/net/arp"), "IP address\n").expect("write");
        std::fs::write(root.join("proc/4242/mounts"), "mounts\n").expect("write");
        std::fs::write(root.join("etc/hostname"), "inside\n").expect("write");
        symlink("4242", root.join("proc/self")).expect("symlink");
        symlink("self/net", root.join("proc/net")).expect("symlink");
        symlink("self/mounts", root.join("proc/mounts")).expect("symlink");
        symlink(&outside, root.join("proc/mdstat")).expect("symlink");
        symlink("../../secret", root.join("etc/shadow")).expect("symlink");
        symlink("/etc/hostname", root.join("etc/absolute")).expect("symlink");
        symlink("loop", root.join("etc/loop")).expect("symlink");
        (top, root)
    }

    /// The regression test of issue 19's first defect: a link out of a
    /// bundle (`proc/mdstat -> /etc/shadow`) was followed and its target
    /// echoed. Both resolvers refuse it and follow links inside the tree.
    #[test]
    fn symlinks_out_of_a_bundle_are_refused() {
        let (_top, root) = tree();
        for openat2 in [true, false] {
            let beneath = |name| read(&root, name, Confine::Beneath, openat2);
            assert_eq!(beneath("proc/net/arp").as_deref(), Ok("IP address\n"));
            assert_eq!(beneath("proc/mounts").as_deref(), Ok("mounts\n"));
            for escaping in ["proc/mdstat", "etc/shadow", "etc/absolute"] {
                let got = beneath(escaping);
                assert!(
                    matches!(&got, Err(ReadError::Refused(why)) if why.contains(escaping)),
                    "{escaping} (openat2 {openat2}): {got:?}"
                );
            }
            assert!(matches!(beneath("etc/loop"), Err(ReadError::Refused(_))));
            assert_eq!(beneath("etc/missing"), Err(ReadError::NotFound));
        }
    }

    /// `--root` trees resolve as under chroot: an absolute link stays in
    /// the tree, `..` stops at its top.
    #[test]
    fn a_root_tree_resolves_links_as_chroot_would() {
        let (_top, root) = tree();
        for openat2 in [true, false] {
            let in_root = |name| read(&root, name, Confine::InRoot, openat2);
            assert_eq!(
                in_root("etc/absolute").as_deref(),
                Ok("inside\n"),
                "{openat2}"
            );
            assert_eq!(in_root("proc/net/arp").as_deref(), Ok("IP address\n"));
            // `/…/secret` means `ROOT/…/secret`, which does not exist.
            assert_eq!(in_root("proc/mdstat"), Err(ReadError::NotFound));
            assert_eq!(in_root("etc/shadow"), Err(ReadError::NotFound));
        }
    }

    /// Directories open for listing through links inside the tree.
    #[test]
    fn directories_open_through_links() {
        let (_top, root) = tree();
        for openat2 in [true, false] {
            let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC;
            let dir = open_with(&root, "proc/net", Confine::Beneath, flags, openat2).expect("dir");
            assert!(File::from(dir).metadata().expect("meta").is_dir());
            let flags = OFlag::O_PATH | OFlag::O_CLOEXEC;
            let link = open_with(&root, "proc/mounts", Confine::Beneath, flags, openat2)
                .expect("O_PATH through a link");
            assert!(File::from(link).metadata().expect("meta").is_file());
            assert!(matches!(
                open_with(&root, "proc/mdstat", Confine::Beneath, flags, openat2),
                Err(ReadError::Refused(_))
            ));
        }
    }
}
