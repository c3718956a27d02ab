//! fedseal_he: Microsoft SEAL (CKKS) for FedSeal's Java API, through JNI.
//!
//! `seal` is a safe layer over SEAL's C API; `bridge` is the only code that
//! knows about JNI. No panic crosses the boundary: every entry point catches
//! it and throws a Java exception instead.

// Links SEAL's static libraries (built from source by sealy) into this cdylib.
extern crate sealy;

mod bridge;
mod ffi;
pub mod seal;
