//! `PreparedRun::execute_to`, the whole run from spec to files: the returned `RunDir` is what
//! `RunDir::open` reads back from the directory, a rows file is completed on success and
//! discarded on failure, and a cancelled run writes nothing.

use gaib_runs::{
    CancelToken, OutDir, PortfolioInput, RowsFile, RunControl, RunDir, RunError, RunSpec,
};
use gaib_simulator::{PathRows, PathSink, SinkError};
use gaib_testkit::small_portfolio;
use std::sync::{Arc, Mutex};

/// What happened to a [`Recorder`]: rows received, then `finished` or `discarded`.
#[derive(Debug, Default, PartialEq)]
struct Log {
    rows: usize,
    finished: bool,
    discarded: bool,
}

/// A rows file that only records what the run did with it.
struct Recorder(Arc<Mutex<Log>>);

impl PathSink for Recorder {
    fn accept(&mut self, rows: &PathRows) -> Result<(), SinkError> {
        self.0.lock().unwrap().rows += rows.len();
        Ok(())
    }
}

impl RowsFile for Recorder {
    fn finish(self: Box<Self>) -> Result<(), SinkError> {
        self.0.lock().unwrap().finished = true;
        Ok(())
    }

    fn discard(self: Box<Self>) {
        self.0.lock().unwrap().discarded = true;
    }
}

fn spec(paths: u64) -> RunSpec {
    RunSpec {
        sensitivities: true,
        threads: Some(2),
        ..RunSpec::new(
            PortfolioInput::from_file(&small_portfolio()).unwrap(),
            paths,
            9,
        )
    }
}

#[test]
fn the_written_run_dir_is_the_one_open_reads_back_and_rows_are_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("run");
    let log = Arc::new(Mutex::new(Log::default()));
    let rows: Box<dyn RowsFile> = Box::new(Recorder(log.clone()));
    let written = spec(300)
        .prepare()
        .unwrap()
        .execute_to(
            OutDir::claim(&path, false).unwrap(),
            &RunControl::default(),
            Some(rows),
        )
        .unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        Log {
            rows: 300,
            finished: true,
            discarded: false
        }
    );
    let opened = RunDir::open(&path).unwrap();
    assert_eq!(written.dir, opened.dir);
    assert_eq!(written.manifest_bytes, opened.manifest_bytes);
    assert_eq!(written.manifest, opened.manifest);
    assert_eq!(written.results, opened.results);
    assert_eq!(written.sensitivities, opened.sensitivities);
    assert_eq!(written.stress, opened.stress);
    assert_eq!(written.spec.backend, opened.spec.backend);
    assert_eq!(written.spec.threads, opened.spec.threads);
    assert_eq!(
        written.spec.portfolio.sha256(),
        opened.spec.portfolio.sha256()
    );
    assert!(opened.output_hash_differences().is_empty());
}

#[test]
fn a_cancelled_run_discards_its_rows_and_writes_no_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("run");
    let log = Arc::new(Mutex::new(Log::default()));
    let rows: Box<dyn RowsFile> = Box::new(Recorder(log.clone()));
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = spec(300)
        .prepare()
        .unwrap()
        .execute_to(
            OutDir::claim(&path, false).unwrap(),
            &RunControl::with_cancel(cancel),
            Some(rows),
        )
        .unwrap_err();
    assert!(matches!(err, RunError::Cancelled), "{err}");
    let log = log.lock().unwrap();
    assert!(log.discarded && !log.finished, "{log:?}");
    assert!(!path.exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `RunSpec::check` answers bad input without choosing a backend; the checked run then
/// prepares and runs like `RunSpec::prepare`.
#[test]
fn check_answers_bad_input_and_the_checked_run_prepares() {
    let bad = RunSpec {
        threads: Some(0),
        ..spec(10)
    };
    let err = bad.check().unwrap_err();
    assert!(err.to_string().contains("threads"), "{err}");
    let checked = spec(10).check().unwrap();
    assert_eq!(checked.legs(), 6);
    assert_eq!(checked.paths_total(), 60);
    let out = checked
        .prepare()
        .unwrap()
        .execute(&RunControl::default(), None)
        .unwrap();
    let direct = spec(10)
        .prepare()
        .unwrap()
        .execute(&RunControl::default(), None)
        .unwrap();
    assert_eq!(out.outputs, direct.outputs);
}

/// A path that does not exist is refused with its own name, not read as the current directory
/// (it used to fall back to `.`, and the error named `./manifest.json`).
#[test]
fn open_names_a_missing_run_directory() {
    let err = RunDir::open(std::path::Path::new("no-such-run-dir/x")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no-such-run-dir/x"), "{msg}");
    assert!(msg.contains("no such directory or file"), "{msg}");
    assert_eq!(err.class(), gaib_runs::ErrorClass::Input);
}

/// A run that names `cuda` is answered at check time exactly as backend selection would
/// answer it (on a machine without CUDA: refused as unavailable, an input error, before any
/// backend is built for the run), so a queue can refuse it at submit.
#[test]
fn check_answers_an_unavailable_cuda_like_selection() {
    let cuda = || RunSpec {
        backend: gaib_runs::BackendSelection::Cuda,
        ..spec(10)
    };
    let selected = gaib_runs::select(gaib_runs::BackendSelection::Cuda, Some(1));
    match (cuda().check(), selected) {
        (Ok(_), Ok(_)) => {}
        (Err(e), Err(s)) => {
            assert_eq!(e.to_string(), s.to_string());
            assert_eq!(e.class(), gaib_runs::ErrorClass::Input, "{e}");
            assert!(e.to_string().contains("cuda"), "{e}");
        }
        (c, s) => panic!(
            "check and selection disagree: {:?} vs {:?}",
            c.err(),
            s.err()
        ),
    }
}
