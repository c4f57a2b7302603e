//! nginx with its dav module on a loopback port, from tests/nginx/nginx.conf.in: a server that
//! accepts If-Match and If-None-Match on writes and ignores them. Started per test in its own
//! temporary folder, stopped (SIGTERM) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const NGINX_BIN: &str = "/usr/sbin/nginx";

pub struct Nginx {
    pub url: String,
    pub dir: PathBuf,
    child: Child,
}

impl Nginx {
    /// Starts nginx serving `files` (name, content) from its document root.
    pub fn start(files: &[(&str, &str)]) -> Nginx {
        assert!(
            Path::new(NGINX_BIN).exists(),
            "nginx is not installed ({NGINX_BIN} missing): the README's test command \
             (scripts/test) installs it with apt-get install nginx"
        );
        let dir = std::env::temp_dir().join(format!(
            "ifmatch-nginx-{}-{}",
            std::process::id(),
            crate::unique()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["data", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for (name, content) in files {
            std::fs::write(dir.join("data").join(name), content).unwrap();
        }
        let root = crate::apache::is_root();
        if root {
            // Its worker runs as nobody: let it write the documents and its temporary files.
            let _ = Command::new("chmod")
                .arg("-R")
                .arg("a+rwX")
                .arg(&dir)
                .status();
        }
        let template = include_str!("../nginx/nginx.conf.in");
        let conf_path = dir.join("nginx.conf");
        let (port, child) = crate::serve_on_free_port(
            "nginx",
            Duration::from_secs(10),
            |port| {
                let conf = template
                    .replace("@DIR@", dir.to_str().unwrap())
                    .replace("@PORT@", &port.to_string())
                    .replace("@USER@", if root { "user nobody nogroup;" } else { "" });
                std::fs::write(&conf_path, conf).unwrap();
                Command::new(NGINX_BIN)
                    .arg("-c")
                    .arg(&conf_path)
                    .arg("-p")
                    .arg(&dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("nginx starts")
            },
            |child| crate::stderr_and_log(child, Some(&dir.join("error.log"))),
        );
        Nginx {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            child,
        }
    }

    /// The file as nginx has it on disk.
    pub fn file(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join("data").join(name)).ok()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        crate::stop(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
