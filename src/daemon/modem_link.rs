//! The AT engine ([`crate::modem`]) as the daemon's components see it: [`Transmitter`] for
//! the outbox sender, [`SimStorage`] for the inbound pipeline, [`Voice`] for the callback
//! dialler, and [`route`] sorting its events (SMS notifications to the inbound pipeline,
//! call endings to the dialler, state changes to the log).

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::Health;
use super::callbacks::Voice;
use super::inbound::ReceivedPdu;
use super::outbound::{TransmitError, Transmitter};
use super::sim::{SimEvent, SimStorage, Slot};
use crate::logging;
use crate::modem::pdu::Pdu;
use crate::modem::{
    Call, CallEnd, DialNumber, DialOutcome, HoldAction, HoldOptions, ModemError, ModemEvent,
    ModemHandle, ModemState, RawPdu, SendError, Storage, SubmitPdu, Urc,
};

/// A cloneable link to the modem task.
#[derive(Debug, Clone)]
pub struct Link {
    handle: ModemHandle,
}

impl Link {
    pub fn new(handle: ModemHandle) -> Link {
        Link { handle }
    }
}

/// What a failed `AT+CMGS` means for the outbox (see [`TransmitError`]).
fn sorted(error: SendError) -> TransmitError {
    let text = error.to_string();
    match error {
        SendError::Unavailable(_)
        | SendError::Gone {
            after_pdu: false, ..
        } => TransmitError::Unavailable(text),
        error if error.may_have_been_sent() => TransmitError::InDoubt(text),
        _ => TransmitError::Refused(text),
    }
}

impl Transmitter for Link {
    async fn ready(&self) {
        let mut state = self.handle.watch_state();
        if state
            .wait_for(|state| *state == ModemState::Ready)
            .await
            .is_err()
        {
            // The modem task has stopped: only shutdown is left to wait for.
            std::future::pending::<()>().await;
        }
    }

    async fn transmit(&self, part: &Pdu) -> Result<u8, TransmitError> {
        let pdu = SubmitPdu::from_pdu(part.clone()).map_err(|err| {
            TransmitError::Refused(format!("the encoded part cannot be sent: {err}"))
        })?;
        self.handle
            .send_pdu(pdu)
            .await
            .map(|reference| reference.0)
            .map_err(sorted)
    }
}

impl Voice for Link {
    async fn ready(&self) {
        Transmitter::ready(self).await;
    }

    async fn registered(&self) -> Result<bool, ModemError> {
        Ok(self.handle.registration().await?.status.is_registered())
    }

    async fn dial(&self, number: &DialNumber) -> Result<DialOutcome, ModemError> {
        self.handle.dial(number.clone()).await
    }

    async fn calls(&self) -> Result<Vec<Call>, ModemError> {
        self.handle.calls().await
    }

    async fn hold(&self, action: HoldAction) -> Result<(), ModemError> {
        self.handle.hold(action).await
    }

    async fn hang_up(&self) -> Result<(), ModemError> {
        self.handle.hang_up().await
    }

    async fn hold_options(&self) -> Result<HoldOptions, ModemError> {
        self.handle.hold_options().await
    }
}

fn received(pdu: RawPdu) -> ReceivedPdu {
    match pdu {
        RawPdu::Bytes(bytes) => ReceivedPdu::Bytes(bytes),
        RawPdu::BadHex(line) => ReceivedPdu::BadHex(line),
    }
}

fn slot(storage: &Storage, index: u32) -> Slot {
    Slot {
        storage: storage.name().to_string(),
        index,
    }
}

impl SimStorage for Link {
    async fn list(&self) -> Result<Vec<(Slot, ReceivedPdu)>, String> {
        let stored = self
            .handle
            .list_stored()
            .await
            .map_err(|err| err.to_string())?;
        Ok(stored
            .into_iter()
            .map(|stored| (slot(&stored.storage, stored.index), received(stored.pdu)))
            .collect())
    }

    async fn read(&self, at: &Slot) -> Result<Option<ReceivedPdu>, String> {
        self.handle
            .read_stored(Storage::from_name(&at.storage), at.index)
            .await
            .map(|stored| stored.map(|stored| received(stored.pdu)))
            .map_err(|err| err.to_string())
    }

    async fn delete(&self, at: &Slot) -> Result<(), String> {
        self.handle
            .delete_stored(Storage::from_name(&at.storage), at.index)
            .await
            .map_err(|err| err.to_string())
    }
}

/// Sort the modem's events until it stops: SMS notifications go to the inbound pipeline,
/// call endings (`BUSY`, `NO ANSWER`, `NO CARRIER`) to the callback dialler, state changes
/// are logged in words a field engineer can act on.
pub async fn route(
    mut events: mpsc::UnboundedReceiver<ModemEvent>,
    sim: mpsc::UnboundedSender<SimEvent>,
    calls: mpsc::UnboundedSender<CallEnd>,
    port: PathBuf,
    health: Arc<watch::Sender<Health>>,
) {
    let mut ever_ready = false;
    let mut waiting_logged = false;
    while let Some(event) = events.recv().await {
        let forward = match event {
            ModemEvent::Ready(report) => {
                ever_ready = true;
                waiting_logged = false;
                let info = &report.info;
                let said = |value: &Option<String>| value.clone().unwrap_or_else(|| "?".into());
                tracing::info!(
                    port = %port.display(),
                    "modem ready: {} {}, operator {}, indications {}",
                    said(&info.manufacturer),
                    said(&info.model),
                    said(&info.operator),
                    info.indications.unwrap_or("refused: new messages are found by polling"),
                );
                for (step, why) in report.refused() {
                    tracing::warn!("modem init: {step} refused: {why}");
                }
                Some(SimEvent::Ready)
            }
            ModemEvent::Lost { reason } => {
                health.send_replace(Health::ModemAway(reason.clone()));
                if !ever_ready {
                    // Never there yet: "waiting for the modem" says it better.
                    continue;
                }
                tracing::warn!(
                    port = %port.display(),
                    "modem lost ({reason}): texts wait at the network and replies in the \
                     outbox; reconnecting when it is back"
                );
                None
            }
            ModemEvent::StateChanged { new, reason, .. } => {
                if let ModemState::Gone(_) = new
                    && !ever_ready
                    && !waiting_logged
                {
                    waiting_logged = true;
                    tracing::warn!(
                        port = %port.display(),
                        "waiting for the modem at {} ({reason}); a site PC often boots before \
                         the USB stick is ready. Check `[modem] port` if it never comes",
                        port.display()
                    );
                }
                None
            }
            ModemEvent::Unsolicited(
                Urc::MessageStored { storage, index } | Urc::StatusReportStored { storage, index },
            ) => Some(SimEvent::Stored(slot(&storage, index))),
            ModemEvent::Unsolicited(
                Urc::MessageDelivered { pdu, .. } | Urc::StatusReport { pdu, .. },
            ) => Some(SimEvent::Delivered(received(pdu))),
            ModemEvent::Unsolicited(Urc::CallEnded(end)) => {
                tracing::debug!("modem: a call ended ({end})");
                // The dialler is gone only at shutdown.
                let _ = calls.send(end);
                None
            }
            ModemEvent::Unsolicited(Urc::Registration(registration)) => {
                tracing::info!("network registration: {}", registration.status);
                None
            }
            ModemEvent::Unsolicited(Urc::CallerId(caller)) => {
                // The caller's number goes through the log's masking like every phone.
                let number = caller.number.as_deref().unwrap_or("withheld");
                let shown = if logging::masking() {
                    logging::masked(number)
                } else {
                    number.to_string()
                };
                tracing::debug!(phone = %shown, "modem: incoming call");
                None
            }
            other => {
                tracing::debug!("modem: {other:?}");
                None
            }
        };
        if let Some(event) = forward
            && sim.send(event).is_err()
        {
            // The inbound pipeline has stopped (shutdown).
            return;
        }
    }
}
