//! The guard of the memory replay benchmark (`scripts/rca-eval --memory`): replayed
//! incidents and their "confirmed" truths must only ever be written to a scratch
//! database of the benchmark's own, never to a database engineers use.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The `sqlite://` URL of a new scratch database at `file`, after checking that it
/// is one: `file` must not exist yet, and its folder must be inside the system's
/// temporary directory (`std::env::temp_dir()`, both resolved through symlinks).
/// Anything else is refused with [`Error::Invalid`] — a replay that writes truths
/// into a real database would plant made-up confirmations in its memory.
pub fn scratch_database_url(file: &Path) -> Result<String> {
    let refuse = |why: &str| {
        Error::invalid(
            "database",
            format!(
                "the memory replay writes only to a new scratch database in the temporary directory; {} {why}",
                file.display()
            ),
        )
    };
    if file.exists() {
        return Err(refuse("already exists"));
    }
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or_else(|| refuse("has no folder"))?;
    let parent: PathBuf = parent
        .canonicalize()
        .map_err(|_| refuse("is in a folder that does not exist"))?;
    let tmp = std::env::temp_dir()
        .canonicalize()
        .map_err(|_| refuse("cannot be checked: the temporary directory does not resolve"))?;
    if !parent.starts_with(&tmp) || parent == tmp {
        return Err(refuse(&format!(
            "is not in a folder of its own under {}",
            tmp.display()
        )));
    }
    let name = file.file_name().ok_or_else(|| refuse("has no file name"))?;
    Ok(format!("sqlite://{}", parent.join(name).display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_new_files_in_a_temporary_folder_are_accepted() {
        let dir = std::env::temp_dir().join(format!("oncall-replay-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir(&dir).unwrap();
        let url = scratch_database_url(&dir.join("memory.db")).unwrap();
        assert!(
            url.starts_with("sqlite://") && url.ends_with("memory.db"),
            "{url}"
        );

        std::fs::write(dir.join("taken.db"), b"").unwrap();
        assert!(
            scratch_database_url(&dir.join("taken.db")).is_err(),
            "existing file"
        );
        assert!(
            scratch_database_url(Path::new("data/oncall.db")).is_err(),
            "the default database"
        );
        assert!(
            scratch_database_url(Path::new("oncall.db")).is_err(),
            "no folder"
        );
        assert!(
            scratch_database_url(&std::env::temp_dir().join("x.db")).is_err(),
            "the temporary directory itself is shared"
        );
        let cwd = std::env::current_dir().unwrap().join("replay-memory.db");
        assert!(scratch_database_url(&cwd).is_err(), "the working directory");
        let e = scratch_database_url(&cwd).unwrap_err().to_string();
        assert!(e.contains("scratch database"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
