//! The flagship benchmark subject: process spawn, pipes and a prefork process pool.

pub mod pool;
