//! `shiftsms campaigns ...`

use std::io::Write;

use super::table::{Table, shorten};
use super::{AdminError, CampaignsCommand, Context, plural, show_time};
use crate::store::Store;
use crate::store::campaigns::CampaignStatus;

pub(super) fn run(
    command: Option<&CampaignsCommand>,
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    match command {
        None | Some(CampaignsCommand::List) => list(store, ctx, out),
        Some(CampaignsCommand::Create { shifts, id }) => {
            if shifts.trim().is_empty() {
                return Err(AdminError::EmptyCampaign);
            }
            let id = match id {
                Some(id) => id.trim().to_string(),
                None => ctx.now.strftime("%Y-%m-%d-%H%M%S").to_string(),
            };
            let tx = store.transaction()?;
            tx.campaigns().create(&id, shifts.trim(), ctx.now)?;
            let audience = tx.employees().subscribed()?.len();
            tx.commit()?;
            if audience == 0 {
                writeln!(
                    out,
                    "Created campaign {id}. No employee is subscribed, so nobody would be texted \
                     now: add employees with `shiftsms employees add`."
                )?;
            } else {
                writeln!(
                    out,
                    "Created campaign {id}. The running daemon (`shiftsms run`) texts it to {}.",
                    plural(audience, "subscribed employee", "subscribed employees")
                )?;
            }
            Ok(())
        }
    }
}

fn list(store: &mut Store, ctx: &Context, out: &mut impl Write) -> Result<(), AdminError> {
    let tx = store.read()?;
    let campaigns = tx.campaigns().list()?;
    if campaigns.is_empty() {
        writeln!(
            out,
            "No campaigns yet. Create one with `shiftsms campaigns create \"XYZ123 Mon 06:00-14:00\"`."
        )?;
        return Ok(());
    }
    let mut table = Table::new(&["ID", "STATUS", "CREATED", "SENT", "SHIFTS"]);
    for campaign in &campaigns {
        let status = match &campaign.status {
            CampaignStatus::Invalid { reason } => format!("invalid: {reason}"),
            other => other.as_str().to_string(),
        };
        let sent = match campaign.status {
            CampaignStatus::New | CampaignStatus::Invalid { .. } => "-".to_string(),
            CampaignStatus::Sending | CampaignStatus::Done => {
                let progress = tx.campaigns().progress(&campaign.id)?;
                let mut sent = format!("{}/{}", progress.sent, progress.recipients);
                if progress.not_sent > 0 {
                    sent.push_str(&format!(" ({} not sent)", progress.not_sent));
                }
                sent
            }
        };
        table.row([
            campaign.id.as_str(),
            &status,
            &show_time(campaign.created_at, ctx),
            &sent,
            &shorten(&campaign.shifts, 60),
        ]);
    }
    table.write(out)?;
    Ok(())
}
