//! Tasks: reminders of tasks falling due are sent every minute.

use std::time::Duration;

use crate::jobs::{Context, Ran, Registry, When};

pub fn register(registry: &mut Registry) {
    let when = When::Every {
        period: Duration::from_secs(60),
        at_start: false,
    };
    registry.schedule("send task reminders", when, |context| {
        Box::pin(reminders(context))
    });
}

async fn reminders(context: &Context) -> Ran {
    Ok(portico_db::system::tasks::send_reminders(&context.db).await?)
}
