// Wiring only: opens the store and serves dmm-bot's HTTP endpoints on PORT.
import type { Server } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { ingestRouter } from './ingest/http-api.js';
import { openDatabase, type Database } from './store/database.js';

export interface RunningBot {
  db: Database;
  server: Server;
  port: number;
  stop(): Promise<void>;
}

/** dmm-bot's HTTP endpoints; the chat platforms' receivers join them on the same port. */
export function httpApp(db: Database, config: Pick<Config, 'DMM_INGEST_TOKEN'>, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(ingestRouter(db, config.DMM_INGEST_TOKEN, log));
  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found.' });
  });
  return app;
}

export async function startBot(config: Config, log: Logger): Promise<RunningBot> {
  const db = await openDatabase(config);
  const app = httpApp(db, config, log);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.PORT, '0.0.0.0');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  }).catch(async (error: NodeJS.ErrnoException) => {
    await db.close();
    throw error.code === 'EADDRINUSE' ? new Error(`Port ${config.PORT} is already in use: set PORT to a free port.`) : error;
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  log.info({ port, store: db.kind }, 'dmm-bot started');
  return {
    db,
    server,
    port,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}
