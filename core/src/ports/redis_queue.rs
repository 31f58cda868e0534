//! The Redis queue of the distributed shape: one stream, one consumer group shared by all
//! workers, entries acknowledged when handled and reclaimed from a dead consumer after
//! [`RedisQueue::RECLAIM_IDLE`].

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamReadOptions, StreamReadReply,
};

use super::queue::{Delivery, Job, JobQueue};
use crate::error::{CoreError, CoreResult};

const GROUP: &str = "workers";

pub struct RedisQueue {
    /// Commands that return at once.
    conn: ConnectionManager,
    /// Blocking reads get their own connection so they never hold up the others.
    blocking: ConnectionManager,
    stream: String,
    consumer: String,
}

fn qerr(e: redis::RedisError) -> CoreError {
    CoreError::Queue(e.to_string())
}

impl RedisQueue {
    pub const RECLAIM_IDLE: Duration = Duration::from_secs(60);

    pub async fn connect(url: &str, prefix: &str, consumer: &str) -> CoreResult<Self> {
        let client = redis::Client::open(url).map_err(qerr)?;
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = client
            .get_connection_manager_with_config(cfg.clone())
            .await
            .map_err(qerr)?;
        let blocking = client
            .get_connection_manager_with_config(cfg)
            .await
            .map_err(qerr)?;
        let q = Self {
            conn,
            blocking,
            stream: format!("{prefix}:jobs"),
            consumer: consumer.to_string(),
        };
        q.ensure_group().await?;
        Ok(q)
    }

    async fn ensure_group(&self) -> CoreResult<()> {
        let mut c = self.conn.clone();
        let r: redis::RedisResult<()> = c.xgroup_create_mkstream(&self.stream, GROUP, "0").await;
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.to_string().contains("BUSYGROUP") => Ok(()),
            Err(e) => Err(qerr(e)),
        }
    }

    fn parse(id: redis::streams::StreamId) -> Option<Delivery> {
        let raw: String = id.get("job")?;
        match serde_json::from_str::<Job>(&raw) {
            Ok(job) => Some(Delivery { id: id.id, job }),
            Err(e) => {
                tracing::warn!(entry.id = %id.id, error = %e, "dropping an unreadable queue entry");
                None
            }
        }
    }

    /// Takes over entries that another consumer read but never acknowledged.
    async fn reclaim(&self, max: usize) -> CoreResult<Vec<Delivery>> {
        let mut c = self.conn.clone();
        let reply: StreamAutoClaimReply = c
            .xautoclaim_options(
                &self.stream,
                GROUP,
                &self.consumer,
                Self::RECLAIM_IDLE.as_millis() as usize,
                "0-0",
                StreamAutoClaimOptions::default().count(max),
            )
            .await
            .map_err(qerr)?;
        Ok(reply.claimed.into_iter().filter_map(Self::parse).collect())
    }
}

#[async_trait::async_trait]
impl JobQueue for RedisQueue {
    async fn push(&self, job: Job) -> CoreResult<()> {
        let payload = serde_json::to_string(&job).map_err(|e| CoreError::Queue(e.to_string()))?;
        let mut c = self.conn.clone();
        let r: redis::RedisResult<String> = c
            .xadd(&self.stream, "*", &[("job", payload.as_str())])
            .await;
        match r {
            Ok(_) => Ok(()),
            // Someone flushed Redis: recreate the group and try once more.
            Err(e) if e.to_string().contains("NOGROUP") => {
                self.ensure_group().await?;
                let _: String = c
                    .xadd(&self.stream, "*", &[("job", payload.as_str())])
                    .await
                    .map_err(qerr)?;
                Ok(())
            }
            Err(e) => Err(qerr(e)),
        }
    }

    async fn pull(&self, max: usize, wait: Duration) -> CoreResult<Vec<Delivery>> {
        let reclaimed = self.reclaim(max).await?;
        if !reclaimed.is_empty() {
            return Ok(reclaimed);
        }
        let mut opts = StreamReadOptions::default()
            .group(GROUP, &self.consumer)
            .count(max);
        let block_ms = wait.min(Duration::from_secs(2)).as_millis() as usize;
        if block_ms > 0 {
            opts = opts.block(block_ms);
        }
        let mut c = self.blocking.clone();
        let r: redis::RedisResult<Option<StreamReadReply>> =
            c.xread_options(&[&self.stream], &[">"], &opts).await;
        let reply = match r {
            Ok(r) => r,
            Err(e) if e.to_string().contains("NOGROUP") => {
                self.ensure_group().await?;
                None
            }
            Err(e) => return Err(qerr(e)),
        };
        Ok(reply
            .map(|r| {
                r.keys
                    .into_iter()
                    .flat_map(|k| k.ids)
                    .filter_map(Self::parse)
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn ack(&self, delivery: &Delivery) -> CoreResult<()> {
        let mut c = self.conn.clone();
        let _: usize = c
            .xack(&self.stream, GROUP, &[&delivery.id])
            .await
            .map_err(qerr)?;
        let _: usize = c.xdel(&self.stream, &[&delivery.id]).await.map_err(qerr)?;
        Ok(())
    }

    async fn ping(&self) -> CoreResult<()> {
        let mut c = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut c).await.map_err(qerr)?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
