//! Records kept only for a while: expired sessions, old sign-in failures and old live-update
//! signals are purged on a schedule.

use std::time::Duration;

use crate::jobs::{Context, Ran, Registry, When};

pub fn register(registry: &mut Registry) {
    let every = |minutes: u64| When::Every {
        period: Duration::from_secs(60 * minutes),
        at_start: false,
    };
    registry.schedule("purge expired sessions", every(10), |context| {
        Box::pin(sessions(context))
    });
    registry.schedule("purge old sign-in failures", every(10), |context| {
        Box::pin(sign_in_failures(context))
    });
    registry.schedule("purge old live-update signals", every(1), |context| {
        Box::pin(signals(context))
    });
}

async fn sessions(context: &Context) -> Ran {
    Ok(portico_db::sessions::purge_expired(&context.db).await? as usize)
}

async fn sign_in_failures(context: &Context) -> Ran {
    Ok(portico_db::throttle::purge(&context.db).await? as usize)
}

async fn signals(context: &Context) -> Ran {
    Ok(portico_db::signals::purge(&context.db).await? as usize)
}
