//! `stage`: the thin timely wrapper every pipeline stage uses. It applies a plain fallible function to each item,
//! records the stage's metrics, and splits the results into a stream of outputs and a stream of `ErrorRecord`s, so
//! one bad video never stops the dataflow.

use clipstream_schemas::{ErrorRecord, Stage};
use timely::dataflow::Stream;
use timely::dataflow::operators::core::OkErr;
use timely::progress::Timestamp;

use crate::metrics::StageMetrics;

/// Extension trait adding [`StageExt::stage`] to streams of items.
pub trait StageExt<'scope, T: Timestamp, D> {
    /// Applies `logic` to every item; `Ok` results continue on the first stream, failures on the second.
    ///
    /// ```
    /// use clipstream_core::StageExt;
    /// use clipstream_schemas::{ErrorRecord, Stage};
    /// use timely::dataflow::operators::{Capture, ToStream, capture::Extract, core::Map};
    ///
    /// let (ok, err) = timely::example(|scope| {
    ///     let (ok, err) = (1..=4u32).to_stream(scope).container::<Vec<_>>().stage(Stage::Filter, |n| {
    ///         if n % 2 == 0 { Ok(n * 10) } else { Err(ErrorRecord::from_parts(Stage::Filter, "v", "u", "filter.odd", "odd")) }
    ///     });
    ///     (ok.capture(), err.map::<Vec<String>, _, _>(|e: ErrorRecord| e.code).capture())
    /// });
    /// assert_eq!(ok.extract()[0].1, vec![20, 40]);
    /// assert_eq!(err.extract()[0].1, vec!["filter.odd".to_string(); 2]);
    /// ```
    fn stage<R, F>(self, stage: Stage, logic: F) -> (Stream<'scope, T, Vec<R>>, Stream<'scope, T, Vec<ErrorRecord>>)
    where
        R: Clone + 'static,
        F: FnMut(D) -> Result<R, ErrorRecord> + 'static;
}

impl<'scope, T: Timestamp, D: Clone + 'static> StageExt<'scope, T, D> for Stream<'scope, T, Vec<D>> {
    fn stage<R, F>(self, stage: Stage, mut logic: F) -> (Stream<'scope, T, Vec<R>>, Stream<'scope, T, Vec<ErrorRecord>>)
    where
        R: Clone + 'static,
        F: FnMut(D) -> Result<R, ErrorRecord> + 'static,
    {
        let metrics = StageMetrics::for_stage(stage);
        self.ok_err(move |item| metrics.observe(|| logic(item)))
    }
}
