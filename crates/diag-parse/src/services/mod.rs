//! Parsers of service managers' and servers' own formats.

pub mod errorlog;
pub mod perms;
pub mod systemd;
pub mod webconf;
