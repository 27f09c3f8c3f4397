//! Counts the statements a piece of work sends, so that the web layer can report how many
//! queries each page costs. Counting happens where every statement starts, in [`on_db!`] and
//! [`on_tx!`]; outside a [`counting`] scope it does nothing.
//!
//! [`on_db!`]: crate::on_db
//! [`on_tx!`]: crate::on_tx

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static STATEMENTS: Cell<u32>;
}

/// Runs `work` and returns its output with the number of statements it sent from this task.
pub async fn counting<F: Future>(work: F) -> (F::Output, u32) {
    STATEMENTS
        .scope(Cell::new(0), async {
            let out = work.await;
            (out, STATEMENTS.with(Cell::get))
        })
        .await
}

/// One more statement for the enclosing [`counting`] scope, if any.
#[doc(hidden)]
pub fn note() {
    let _ = STATEMENTS.try_with(|c| c.set(c.get() + 1));
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn statements_are_counted_inside_a_scope_only() {
        super::note();
        let ((), n) = super::counting(async {
            super::note();
            super::note();
        })
        .await;
        assert_eq!(n, 2);
    }
}
