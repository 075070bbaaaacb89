//! Activates secret actors from the store and forgets them when they stop or fail.

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::DashMap;
use ractor::{
    Actor, ActorId, ActorProcessingErr, ActorRef, ActorStatus, RpcReplyPort, SupervisionEvent,
};

use super::secret::{SecretActor, SecretArgs, SecretMsg};
use super::{ActorError, ActorSettings};
use crate::crypto::Keyring;
use crate::domain::SecretId;
use crate::storage::blob::BlobStore;
use crate::storage::{CachedStore, SecretStore};

/// The resident actors by secret, shared with request handlers for a lock-free fast path.
pub type Directory = Arc<DashMap<SecretId, ActorRef<SecretMsg>>>;

/// Whether an actor can still take messages.
pub fn is_active(actor: &ActorRef<SecretMsg>) -> bool {
    matches!(
        actor.get_status(),
        ActorStatus::Starting | ActorStatus::Running | ActorStatus::Upgrading
    )
}

/// Messages the supervisor serves.
pub enum SupervisorMsg {
    /// The resident actor of a secret, activated from the store if needed; `None` when the store
    /// has no such secret.
    Activate {
        /// Which secret.
        id: SecretId,
        /// An actor the caller saw drop a request unanswered (it is dying): replace it even if
        /// its status has not caught up yet.
        stale: Option<ActorId>,
        /// Where the answer goes.
        reply: RpcReplyPort<Result<Option<ActorRef<SecretMsg>>, ActorError>>,
    },
}

/// What the supervisor starts with.
pub struct SupervisorArgs {
    /// Shared with [`super::Actors`].
    pub directory: Directory,
    /// The store actors load from and write to.
    pub store: Arc<CachedStore>,
    /// Keys handed to every actor.
    pub keyring: Arc<Keyring>,
    /// Blob store handed to every actor.
    pub blobs: Arc<dyn BlobStore>,
    /// Settings handed to every actor.
    pub settings: ActorSettings,
}

/// The supervisor's state.
pub struct SupervisorState {
    args: SupervisorArgs,
    /// Which secret each child serves, to clean the directory when it stops.
    children: HashMap<ActorId, SecretId>,
}

/// The behaviour of the supervisor: the only place actors are spawned, so a secret never has two
/// resident actors on this node.
pub struct SecretSupervisor;

impl Actor for SecretSupervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<SupervisorMsg>,
        args: SupervisorArgs,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        Ok(SupervisorState {
            args,
            children: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let SupervisorMsg::Activate { id, stale, reply } = msg;
        let result = activate(&myself, state, id, stale).await;
        let _ = reply.send(result);
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        // A child that stops or fails is only forgotten: its state is in the store and the next
        // access activates a fresh actor. The supervisor itself keeps running.
        let cell = match event {
            SupervisionEvent::ActorTerminated(cell, _, _) => cell,
            SupervisionEvent::ActorFailed(cell, err) => {
                tracing::warn!(error = %err, "secret actor failed; it will be re-activated from the store");
                cell
            }
            _ => return Ok(()),
        };
        if let Some(id) = state.children.remove(&cell.get_id()) {
            state
                .args
                .directory
                .remove_if(&id, |_, actor| actor.get_id() == cell.get_id());
        }
        Ok(())
    }
}

async fn activate(
    myself: &ActorRef<SupervisorMsg>,
    state: &mut SupervisorState,
    id: SecretId,
    stale: Option<ActorId>,
) -> Result<Option<ActorRef<SecretMsg>>, ActorError> {
    if let Some(actor) = state.args.directory.get(&id).map(|a| a.clone())
        && is_active(&actor)
        && Some(actor.get_id()) != stale
    {
        return Ok(Some(actor));
    }
    let Some(meta) = state.args.store.load(id).await? else {
        return Ok(None);
    };
    let args = SecretArgs {
        id,
        meta,
        store: Arc::clone(&state.args.store),
        keyring: Arc::clone(&state.args.keyring),
        blobs: Arc::clone(&state.args.blobs),
        settings: state.args.settings,
    };
    let (actor, _) = Actor::spawn_linked(None, SecretActor, args, myself.get_cell())
        .await
        .map_err(|e| ActorError::Unavailable(e.to_string()))?;
    state.children.insert(actor.get_id(), id);
    state.args.directory.insert(id, actor.clone());
    Ok(Some(actor))
}
