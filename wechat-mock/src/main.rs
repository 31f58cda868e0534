//! `fingertip-mock-wechat`: the WeChat and WeCom mock as a process of its own, for demos
//! (`docker compose --profile demo`), the API conformance run and manual tests. Kept out of the
//! `fingertip` binary so that production builds do not carry it.

use std::io::Write as _;

use clap::Parser;
use fingertip_wechat_mock::MockWechat;

#[derive(Parser)]
#[command(
    name = "fingertip-mock-wechat",
    version,
    about = "A local mock of the WeChat and WeCom servers, for demos and manual tests."
)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9100")]
    bind: std::net::SocketAddr,
    /// The app id the mock accepts.
    #[arg(long, default_value = "wx-mock-appid")]
    appid: String,
    /// The app secret the mock accepts.
    #[arg(long, default_value = "mock-secret")]
    secret: String,
    /// The WeCom corp id the mock accepts.
    #[arg(long, default_value = "ww-mock-corpid")]
    corpid: String,
    /// The secret of the mock's WeCom app.
    #[arg(long, default_value = "mock-corpsecret")]
    corpsecret: String,
    /// The id of the mock's WeCom app.
    #[arg(long, default_value_t = 1000002)]
    agentid: i64,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Listening for SIGTERM before anything else, so that a stop sent right after the banner
    // is not the default "terminate at once".
    let stopped = stop_signal();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let mock = MockWechat::new(&cli.appid, &cli.secret);
    mock.add_wecom_agent(&cli.corpid, cli.agentid, &cli.corpsecret);
    let server = match mock.start(cli.bind).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fingertip-mock-wechat: cannot listen on {}: {e}", cli.bind);
            return std::process::ExitCode::FAILURE;
        }
    };
    let base = server.base_url();
    tracing::info!(addr = %server.addr(), "WeChat and WeCom mock listening; point FINGERTIP_WECHAT_API_BASE at {base}");
    let agentid = cli.agentid;
    // A closed stdout (a caller that read only the first line) must not stop the mock.
    let _ = writeln!(
        std::io::stdout(),
        "WeChat/WeCom mock at {base} (both hosts' paths on one server). Control routes, e.g.:\n\
         \x20 curl -s -XPOST {base}/mock/templates -d '{{\"template_id\":\"tpl-lesson\",\"keywords\":[\"thing1\",\"time2\"]}}'\n\
         \x20 curl -s -XPOST {base}/mock/grants -d '{{\"openid\":\"o-1\",\"template_id\":\"tpl-lesson\",\"count\":3}}'\n\
         \x20 curl -s -XPOST {base}/mock/codes -d '{{\"openid\":\"o-1\"}}'        # a wx.login code\n\
         \x20 curl -s -XPOST {base}/mock/wecom/users -d '{{\"agentid\":{agentid},\"userids\":[\"zhangsan\"]}}'\n\
         \x20 curl -s -XPOST {base}/mock/wecom/viewer -d '{{\"userid\":\"zhangsan\"}}'   # who opens WeCom links\n\
         \x20 curl -s -XPOST {base}/mock/faults -d '{{\"path\":\"/cgi-bin/message/subscribe/send\",\"errcode\":-1,\"count\":2}}'\n\
         \x20 curl -s -XPOST {base}/mock/latency -d '{{\"ms\":50}}'\n\
         \x20 curl -s -XPOST {base}/mock/tokens/expire      # or /mock/tokens/invalidate\n\
         \x20 curl -s {base}/mock/stats; curl -s {base}/mock/sent\n\
         All routes: the fingertip_wechat_mock crate docs."
    );
    stopped.await;
    server.shutdown().await;
    std::process::ExitCode::SUCCESS
}

/// Resolves on SIGTERM (docker stop) or ctrl-c. Both handlers are installed when this is
/// called, not when the future is first polled.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = ctrl_c.await;
    }
}
