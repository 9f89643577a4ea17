//! Parse: pure parsers, bytes or text of one format to typed records, with
//! notes for what could not be used. No I/O and no derivation: reading
//! the inputs is [`crate::source`]'s job, deriving what they mean for the
//! host is [`crate::facts`]'s.

pub mod events;
pub mod fs;
pub mod json_records;
pub mod kernel_log;
pub mod md;
pub mod mdstat;
pub mod net;
pub mod netstate;
pub mod nettext;
pub mod pcap;
pub mod services;
