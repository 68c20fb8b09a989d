//! Stream tickets: a browser's `EventSource` cannot send an `Authorization`
//! header, and an access token in a URL ends up in proxy and server logs. Instead
//! the client trades its token for a ticket (`POST
//! /api/analysis/{id}/stream-ticket`) and opens the stream with `?ticket=`: the
//! ticket is random, good for one analysis, redeemed at most once, and expires
//! after [`STREAM_TICKET_TTL`]. Tickets live in the memory of the process that
//! issued them (open the stream on the same server).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::OnCall;
use crate::error::{Error, Result};
use crate::users::{Role, User};

/// How long a stream ticket may wait to be redeemed.
pub const STREAM_TICKET_TTL: Duration = Duration::from_secs(30);
/// Tickets kept at most (unredeemed ones expire on their own).
const MAX_TICKETS: usize = 10_000;

/// A ticket for one analysis's event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTicket {
    /// Pass as `?ticket=` to the event stream; single use.
    pub ticket: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

#[derive(Debug)]
struct Entry {
    user: Uuid,
    token_version: i64,
    analysis: Uuid,
    expires: Instant,
}

/// Unredeemed tickets, by the SHA-256 of the ticket.
#[derive(Debug, Default)]
pub(crate) struct StreamTickets {
    entries: Mutex<HashMap<String, Entry>>,
}

fn digest(ticket: &str) -> String {
    Sha256::digest(ticket.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl OnCall {
    /// A single-use ticket for the event stream of analysis `id` (any role that
    /// may read it), valid for [`STREAM_TICKET_TTL`].
    pub async fn issue_stream_ticket(&self, actor: &User, id: Uuid) -> Result<StreamTicket> {
        actor.require(Role::Viewer)?;
        // 404 for an unknown analysis, as the stream would answer.
        self.analysis(actor, id).await?;
        let ticket = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let now = Instant::now();
        let mut entries = self
            .stream_tickets
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_TICKETS {
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= MAX_TICKETS {
                return Err(Error::RateLimited(
                    "too many unredeemed stream tickets; try again shortly".into(),
                ));
            }
        }
        entries.insert(
            digest(&ticket),
            Entry {
                user: actor.id,
                token_version: actor.token_version,
                analysis: id,
                expires: now + STREAM_TICKET_TTL,
            },
        );
        Ok(StreamTicket {
            ticket,
            expires_in: STREAM_TICKET_TTL.as_secs(),
        })
    }

    /// Redeems a stream ticket (once): the account it was issued to, as it is now
    /// (see [`OnCall::identify`]), and the analysis it is for.
    /// [`Error::Unauthorized`] for an unknown, used or expired ticket.
    pub async fn redeem_stream_ticket(&self, ticket: &str) -> Result<(User, Uuid)> {
        let entry = self
            .stream_tickets
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&digest(ticket));
        match entry {
            Some(e) if e.expires > Instant::now() => {
                let user = self.identify(e.user, e.token_version).await?;
                Ok((user, e.analysis))
            }
            _ => Err(Error::Unauthorized(
                "unknown, used or expired stream ticket".into(),
            )),
        }
    }
}
