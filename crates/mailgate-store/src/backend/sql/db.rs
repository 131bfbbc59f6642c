//! The sqlx types of the backend this module is compiled for (see `mod.rs`), named once for
//! the statements.

pub(super) use super::super::Db;

pub(super) type Pool = sqlx::Pool<Db>;
pub(super) type Row = <Db as sqlx::Database>::Row;
pub(super) type Tx<'a> = sqlx::Transaction<'a, Db>;
