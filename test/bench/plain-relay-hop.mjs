// One hop of the bench's reference relay: accepts TCP on 127.0.0.1 (port 0) and pipes every
// connection to 127.0.0.1:<target port> (argv[2]); no TLS, no parsing, no recording. Reports
// its port to the parent over IPC.
import net from 'node:net';

const target = Number(process.argv[2]);
const server = net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ port: target, host: '127.0.0.1', noDelay: true });
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
