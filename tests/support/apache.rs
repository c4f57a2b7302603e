//! Apache httpd 2.4 with mod_dav + mod_dav_fs on a loopback port, from tests/apache/httpd.conf.in.
//! Started per test in its own temporary folder, stopped (SIGTERM) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const APACHE_BIN: &str = "/usr/sbin/apache2";

pub struct Apache {
    pub url: String,
    pub dir: PathBuf,
    child: Child,
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Apache {
    /// Starts Apache serving `files` (name, content) from its document root, with strong
    /// content-hash ETags (`FileETag Digest`).
    pub fn start(files: &[(&str, &str)]) -> Apache {
        Apache::start_with(files, "Digest")
    }

    /// Starts Apache with the given `FileETag` setting; Apache's default is `MTime Size`, whose
    /// ETag is weak for about a second after each change of the file.
    pub fn start_with(files: &[(&str, &str)], file_etag: &str) -> Apache {
        assert!(
            Path::new(APACHE_BIN).exists(),
            "Apache httpd is not installed ({APACHE_BIN} missing): the README's test command \
             (scripts/test) installs it with apt-get install apache2"
        );
        let dir = std::env::temp_dir().join(format!(
            "ifmatch-apache-{}-{}",
            std::process::id(),
            crate::unique()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["data", "lock", "run"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for (name, content) in files {
            std::fs::write(dir.join("data").join(name), content).unwrap();
        }
        let root = is_root();
        if root {
            // Apache's children run as www-data: let them write the documents and the lock DB.
            for sub in ["", "data", "lock", "run"] {
                let _ = Command::new("chmod")
                    .arg("-R")
                    .arg("a+rwX")
                    .arg(dir.join(sub))
                    .status();
            }
        }
        let template = include_str!("../apache/httpd.conf.in");
        let conf_path = dir.join("httpd.conf");
        let (port, child) = crate::serve_on_free_port(
            "Apache",
            Duration::from_secs(10),
            |port| {
                let conf = template
                    .replace("FileETag Digest", &format!("FileETag {file_etag}"))
                    .replace("@DIR@", dir.to_str().unwrap())
                    .replace("@PORT@", &port.to_string())
                    .replace(
                        "@USER@",
                        if root {
                            "User www-data\nGroup www-data"
                        } else {
                            ""
                        },
                    );
                std::fs::write(&conf_path, conf).unwrap();
                Command::new(APACHE_BIN)
                    .arg("-f")
                    .arg(&conf_path)
                    .arg("-DFOREGROUND")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("apache2 starts")
            },
            |child| crate::stderr_and_log(child, Some(&dir.join("error.log"))),
        );
        Apache {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            child,
        }
    }

    /// The file as Apache has it on disk.
    pub fn file(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join("data").join(name)).ok()
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        crate::stop(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
