//! Git access through git2: the metadata of the measured commit, and baselines read straight
//! from a ref's tree without a checkout.

use std::path::{Path, PathBuf};

use git2::{Repository, StatusOptions};

use super::schema::{GitInfo, Snapshot};
use super::store::parse_snapshot;
use crate::error::{Error, Result};

/// Branches tried, in order, as "the main branch" for merge-base look-ups.
pub const MAIN_BRANCH_CANDIDATES: &[&str] = &["origin/main", "origin/master", "main", "master"];

pub(super) fn open(dir: &Path) -> Result<Repository> {
    Repository::discover(dir).map_err(|e| {
        Error::Git(format!(
            "{} is not inside a git repository ({})",
            dir.display(),
            e.message()
        ))
    })
}

/// A commit time (seconds since the epoch) in RFC 3339, `2026-11-24T06:02:02Z`.
pub fn rfc3339(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Metadata of HEAD in the repository containing `dir`; `None` outside a repository or before
/// the first commit.
pub fn info(dir: &Path) -> Option<GitInfo> {
    let repo = Repository::discover(dir).ok()?;
    let head = repo.head().ok()?;
    let commit = head.peel_to_commit().ok()?;
    let branch = head
        .is_branch()
        .then(|| head.shorthand().map(str::to_string))
        .flatten();
    Some(GitInfo {
        commit: commit.id().to_string(),
        branch,
        dirty: is_dirty(&repo).unwrap_or(true),
        commit_time: rfc3339(commit.time().seconds()),
    })
}

/// Metadata of `commit` in the repository containing `dir`, as a clean checkout of it (a
/// checkout of another commit has no `.git` of its own: discovering from it would find the
/// enclosing repository's HEAD instead).
pub fn commit_info(dir: &Path, commit: &str) -> Option<GitInfo> {
    let repo = Repository::discover(dir).ok()?;
    let c = repo.revparse_single(commit).ok()?.peel_to_commit().ok()?;
    Some(GitInfo {
        commit: c.id().to_string(),
        branch: None,
        dirty: false,
        commit_time: rfc3339(c.time().seconds()),
    })
}

/// Whether tracked files differ from HEAD (untracked files do not count: build output and
/// scratch files should not block a baseline refresh).
pub fn is_dirty(repo: &Repository) -> Result<bool> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(false).include_ignored(false);
    let statuses = repo.statuses(Some(&mut opts))?;
    Ok(!statuses.is_empty())
}

/// Whether the repository containing `dir` has uncommitted changes to tracked files.
pub fn dirty(dir: &Path) -> Result<bool> {
    is_dirty(&open(dir)?)
}

/// The merge-base of HEAD with the base branch: `base_branch` when given (tried as
/// `origin/<base>`, then `<base>`; not finding it is an error, never a silent fall-back to
/// another branch), else the first of [`MAIN_BRANCH_CANDIDATES`] that exists.
pub fn merge_base(dir: &Path, base_branch: Option<&str>) -> Result<String> {
    let repo = open(dir)?;
    let head = repo.head()?.peel_to_commit()?.id();
    let given: Vec<String>;
    let candidates: Vec<&str> = match base_branch {
        Some(b) => {
            given = vec![format!("origin/{b}"), b.to_string()];
            given.iter().map(String::as_str).collect()
        }
        None => MAIN_BRANCH_CANDIDATES.to_vec(),
    };
    for name in &candidates {
        if let Ok(obj) = repo.revparse_single(name) {
            let main = obj.peel_to_commit()?.id();
            let base = repo.merge_base(head, main)?;
            return Ok(base.to_string());
        }
    }
    Err(Error::Git(match base_branch {
        Some(b) => format!(
            "base branch {b:?} not found (tried {}); fetch it (in GitHub Actions: actions/checkout with fetch-depth: 0)",
            candidates.join(", ")
        ),
        None => format!(
            "no main branch found (tried {}); pass --baseline-ref or --base-branch",
            candidates.join(", ")
        ),
    }))
}

/// The first-parent line from `good` to `bad`, oldest first: `good`, then every commit up to
/// and including `bad`, each as its full id and the first line of its message. An error when
/// either does not resolve, when they are the same commit, or when `good` is not on `bad`'s
/// first-parent line (a merge brings it in only through a second parent: name the merge's
/// first parent instead).
pub fn first_parent_range(dir: &Path, good: &str, bad: &str) -> Result<Vec<(String, String)>> {
    let repo = open(dir)?;
    let resolve = |rev: &str| {
        repo.revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| Error::Git(format!("cannot resolve {rev:?}: {}", e.message())))
    };
    let good_c = resolve(good)?;
    let mut c = resolve(bad)?;
    if c.id() == good_c.id() {
        return Err(Error::Git(format!(
            "--good {good:?} and --bad {bad:?} are the same commit {}: nothing lies between them",
            short_oid(c.id())
        )));
    }
    let line = |c: &git2::Commit| (c.id().to_string(), c.summary().unwrap_or("").to_string());
    let mut out = vec![line(&c)];
    while c.id() != good_c.id() {
        c = c.parent(0).map_err(|_| {
            Error::Git(format!(
                "--good {good:?} (commit {}) is not on the first-parent history of --bad {bad:?}",
                short_oid(good_c.id())
            ))
        })?;
        out.push(line(&c));
    }
    out.reverse();
    Ok(out)
}

/// The path of `file` relative to the repository's work tree.
pub(super) fn repo_relative(repo: &Repository, file: &Path) -> Result<PathBuf> {
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Git("the repository has no work tree".into()))?;
    let workdir = workdir.canonicalize().map_err(|e| Error::io(workdir, e))?;
    let abs = if file.is_absolute() {
        file.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(".", e))?
            .join(file)
    };
    // The file need not exist in the work tree; canonicalize its parent when it can.
    let abs = match (
        abs.parent().and_then(|p| p.canonicalize().ok()),
        abs.file_name(),
    ) {
        (Some(p), Some(name)) => p.join(name),
        _ => abs,
    };
    abs.strip_prefix(&workdir)
        .map(Path::to_path_buf)
        .map_err(|_| Error::Git(format!("{} is outside the repository", file.display())))
}

/// A commit id as perfgate shows it and names its checkouts: the first 12 hex digits.
pub fn short_oid(id: git2::Oid) -> String {
    let mut s = id.to_string();
    s.truncate(12);
    s
}

/// Reads the snapshot stored at `file` (a work-tree path) as it is in `rev`, without checking
/// anything out. Errors name `rev:path`.
pub fn read_snapshot_at(dir: &Path, rev: &str, file: &Path) -> Result<Snapshot> {
    let repo = open(dir)?;
    let rel = repo_relative(&repo, file)?;
    let label = PathBuf::from(format!("{rev}:{}", rel.display()));
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| Error::Git(format!("cannot resolve {rev:?}: {}", e.message())))?;
    // Errors name the file they were reading, `rev:path`, not just git's message.
    let object_error = |e: git2::Error| Error::invalid(&label, format!("git: {}", e.message()));
    let entry = commit
        .tree()
        .map_err(object_error)?
        .get_path(&rel)
        .map_err(|_| Error::Invalid {
            path: label.clone(),
            message: format!(
                "no such file at {rev} (commit {}); commit a baseline there first",
                short_oid(commit.id())
            ),
        })?;
    let blob = entry
        .to_object(&repo)
        .map_err(object_error)?
        .peel_to_blob()
        .map_err(|_| Error::invalid(&label, "not a file"))?;
    parse_snapshot(&label, blob.content())
}
