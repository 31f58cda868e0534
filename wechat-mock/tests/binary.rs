//! The `fingertip-mock-wechat` binary as the demo and the API conformance run start it: it
//! listens where it is told, answers its control routes and the platform's, and stops on
//! SIGTERM. (Building this test is also what puts the binary in target/ for those scripts.)

// A panic is how a test reports failure; the numbers a test counts are small.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.0 request; the status line and the body.
fn request(base: &str, method: &str, path: &str, body: &str) -> (String, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("the mock listens");
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("request sent");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("a response");
    let status = out.lines().next().unwrap_or_default().to_string();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (status, body)
}

#[test]
fn the_binary_serves_the_platforms_and_stops_on_sigterm() {
    let child = Command::new(env!("CARGO_BIN_EXE_fingertip-mock-wechat"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--appid",
            "wx-bin",
            "--secret",
            "s-bin",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut child = Running(child);
    let stdout = child.0.stdout.take().expect("stdout is piped");
    // Kept open to the end: the banner goes on after its first line.
    let mut banner = BufReader::new(stdout).lines();
    let first = banner.next().expect("a first line").expect("readable");
    // "WeChat/WeCom mock at http://127.0.0.1:PORT (both hosts' paths on one server). ..."
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the first line names the address")
        .to_string();

    let (status, body) = request(&base, "POST", "/mock/codes", r#"{"openid":"o-bin"}"#);
    assert!(status.contains(" 200 "), "{status} {body}");
    let code = body
        .split('"')
        .skip_while(|w| *w != "code")
        .nth(2)
        .expect("a code")
        .to_string();

    // The platform route with the credentials given on the command line.
    let path = format!(
        "/sns/jscode2session?appid=wx-bin&secret=s-bin&js_code={code}&grant_type=authorization_code"
    );
    let (status, body) = request(&base, "GET", &path, "");
    assert!(status.contains(" 200 "), "{status} {body}");
    assert!(body.contains("\"openid\":\"o-bin\""), "{body}");
    // The same code a second time is refused, as WeChat does.
    let (_, body) = request(&base, "GET", &path, "");
    assert!(body.contains("40163"), "{body}");

    // SIGTERM (what `docker stop` sends) ends it cleanly.
    let pid = child.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.0.wait().expect("it exits");
    assert!(status.success(), "exit status {status}");
}
