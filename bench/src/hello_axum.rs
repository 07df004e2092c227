//! `hello-axum`: the baseline of `overhead-bench` — a bare axum hello-world, nothing but
//! the router, on the same runtime the server uses (tokio's multi-threaded default).

use std::net::SocketAddr;

fn main() -> std::process::ExitCode {
    let Some(port) = std::env::args().nth(1).and_then(|p| p.parse::<u16>().ok()) else {
        eprintln!("usage: hello-axum PORT");
        return std::process::ExitCode::FAILURE;
    };
    let served = tokio::runtime::Runtime::new().and_then(|runtime| {
        runtime.block_on(async {
            let app = axum::Router::new().route(
                "/api/config",
                axum::routing::get(|| async { "Hello, World!" }),
            );
            let listener =
                tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
            axum::serve(listener, app).await
        })
    });
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hello-axum: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
