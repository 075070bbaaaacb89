//! The handle the service uses: find a secret's actor and ask it something.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorId, ActorRef, RpcReplyPort};

use super::ActorError;
use super::secret::SecretMsg;
use super::supervisor::{Directory, SecretSupervisor, SupervisorArgs, SupervisorMsg, is_active};
use crate::crypto::Keyring;
use crate::domain::{LockoutPolicy, SecretId};
use crate::storage::CachedStore;
use crate::storage::blob::BlobStore;

/// How long a caller waits for an actor's answer. Generous: passphrase checks queue up.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts when an actor stops (passivates) between lookup and call.
const ATTEMPTS: usize = 5;

/// Tunables of the actor layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorSettings {
    /// How long an actor stays resident without a request.
    pub idle_timeout: Duration,
    /// When wrong passphrases lock a secret.
    pub lockout: LockoutPolicy,
}

/// The running actor system: a supervisor and the directory of resident actors.
#[derive(Clone)]
pub struct Actors {
    supervisor: ActorRef<SupervisorMsg>,
    directory: Directory,
}

impl Actors {
    /// Starts the supervisor.
    ///
    /// # Errors
    /// [`ActorError::Unavailable`] when the supervisor cannot be spawned.
    pub async fn start(
        store: Arc<CachedStore>,
        keyring: Arc<Keyring>,
        blobs: Arc<dyn BlobStore>,
        settings: ActorSettings,
    ) -> Result<Self, ActorError> {
        let directory: Directory = Arc::new(DashMap::new());
        let args = SupervisorArgs {
            directory: Arc::clone(&directory),
            store,
            keyring,
            blobs,
            settings,
        };
        let (supervisor, _) = Actor::spawn(None, SecretSupervisor, args)
            .await
            .map_err(|e| ActorError::Unavailable(e.to_string()))?;
        Ok(Self {
            supervisor,
            directory,
        })
    }

    /// The resident actor of `id`, if there is one (for the sweeper).
    pub fn resident(&self, id: &SecretId) -> Option<ActorRef<SecretMsg>> {
        self.directory.get(id).map(|a| a.clone()).filter(is_active)
    }

    /// How many actors are resident now.
    pub fn resident_count(&self) -> usize {
        self.directory.len()
    }

    async fn actor_for(
        &self,
        id: SecretId,
        stale: Option<ActorId>,
    ) -> Result<Option<ActorRef<SecretMsg>>, ActorError> {
        if let Some(actor) = self.resident(&id)
            && Some(actor.get_id()) != stale
        {
            return Ok(Some(actor));
        }
        match self
            .supervisor
            .call(
                |reply| SupervisorMsg::Activate { id, stale, reply },
                Some(CALL_TIMEOUT),
            )
            .await
        {
            Ok(CallResult::Success(result)) => result,
            Ok(CallResult::Timeout) => Err(ActorError::Unavailable("supervisor timed out".into())),
            Ok(CallResult::SenderError) | Err(_) => {
                Err(ActorError::Unavailable("supervisor stopped".into()))
            }
        }
    }

    /// Asks the actor of `id` the request `build` makes. [`ActorError::NotFound`] when the store
    /// has no such secret.
    pub async fn ask<T: Send + 'static>(
        &self,
        id: SecretId,
        build: impl Fn(RpcReplyPort<Result<T, ActorError>>) -> SecretMsg,
    ) -> Result<T, ActorError> {
        let mut stale = None;
        for _ in 0..ATTEMPTS {
            let Some(actor) = self.actor_for(id, stale).await? else {
                return Err(ActorError::NotFound);
            };
            match actor.call(&build, Some(CALL_TIMEOUT)).await {
                Ok(CallResult::Success(result)) => return result,
                Ok(CallResult::Timeout) => {
                    return Err(ActorError::Unavailable("secret actor timed out".into()));
                }
                // The actor passivated or failed between lookup and call: it answers nothing
                // more, so a fresh one is activated from the store.
                Ok(CallResult::SenderError) | Err(_) => stale = Some(actor.get_id()),
            }
        }
        Err(ActorError::Unavailable("secret actor kept stopping".into()))
    }

    /// Stops every resident actor, then the supervisor, and waits for them.
    pub async fn shutdown(&self) {
        self.supervisor
            .stop_children_and_wait(None, Some(CALL_TIMEOUT))
            .await;
        let _ = self
            .supervisor
            .stop_and_wait(None, Some(CALL_TIMEOUT))
            .await;
    }
}
