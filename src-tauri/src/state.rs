//! The app's state: the connection in use and, when no API is configured, the built-in demo
//! server (started on demand, on 127.0.0.1 with an ephemeral port).

use ifmatch_engine::demo::{DemoConfig, DemoServer};
use ifmatch_engine::{Auth, Client, ClientConfig, Secret};
use tokio::sync::Mutex;

pub struct AppState {
    /// `IFMATCH_API_URL`, when the user pointed the app at an API.
    pub api_url: Option<String>,
    pub client: Client,
    pub demo: Mutex<Option<DemoServer>>,
}

impl AppState {
    pub fn from_env() -> Self {
        let api_url = std::env::var("IFMATCH_API_URL")
            .ok()
            .map(|u| u.trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        let auth = match std::env::var("IFMATCH_TOKEN") {
            Ok(t) if !t.is_empty() => Auth::Bearer(Secret::new(t)),
            _ => Auth::None,
        };
        let client = Client::new(ClientConfig::default(), auth)
            .expect("the default HTTP client configuration is valid");
        AppState {
            api_url,
            client,
            demo: Mutex::new(None),
        }
    }

    /// The base URL to talk to: the configured API, else the demo server (started now if needed).
    pub async fn base_url(&self) -> Result<String, String> {
        if let Some(u) = &self.api_url {
            return Ok(u.clone());
        }
        let mut demo = self.demo.lock().await;
        if demo.is_none() {
            let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
                .await
                .map_err(|e| format!("the demo server could not start: {e}"))?;
            *demo = Some(server);
        }
        Ok(demo.as_ref().map(|d| d.url()).unwrap_or_default())
    }
}
