//! The actors that own live secrets.
//!
//! A [`SecretActor`](secret::SecretActor) is activated for a secret being used (reveal, status,
//! burn): it owns that secret's view counter and expiry timer and serialises every operation on
//! it, so racing reveals are answered one after the other. It passivates after an idle period,
//! so memory follows the secrets in use, not the secrets stored. The
//! [`SecretSupervisor`](supervisor::SecretSupervisor) activates actors from the store, and the
//! [`sweeper`] expires and purges the secrets whose actors are not resident, from the store's
//! expiry index (which also re-arms every expiry after a restart).
//!
//! State lives in the store; an actor is its single writer on this node, and the store's atomic
//! operation is the authority across nodes. This layer knows nothing of HTTP.

mod error;
pub mod file_stream;
mod handle;
mod secret;
mod supervisor;
pub mod sweeper;

pub use error::ActorError;
pub use file_stream::FileStream;
pub use handle::{ActorSettings, Actors};
pub use secret::{Content, Proof, ReceiptRead, Revealed, SecretMsg, discard_blob};

#[cfg(test)]
mod tests;
