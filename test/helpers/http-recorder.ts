/** A local HTTP server on loopback that records every request and answers with a chosen status. */
import http from 'node:http';
import type net from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Recorder {
  url: string;
  requests: Recorded[];
  /** Status code of the next answers (default 200). */
  status: number;
  close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  const rec = { requests: [] as Recorded[], status: 200 } as Recorder;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      rec.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(rec.status, { 'content-type': 'text/plain' });
      res.end(rec.status < 300 ? 'OK' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  rec.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  rec.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return rec;
}
