/**
 * A gateway in its own process whose event handler never finishes, for crash tests: the parent puts
 * objects, kills this process with SIGKILL, and checks the next gateway on the same directory.
 * Usage: node --import tsx test/harness/gateway-child.ts <dataDir> <accessKeyId> <secretAccessKey>
 */
import { startGateway } from '../../src/gateway/server.js';

const [dataDir, accessKeyId, secretAccessKey] = process.argv.slice(2);
if (!dataDir || !accessKeyId || !secretAccessKey)
  throw new Error('usage: gateway-child <dataDir> <id> <secret>');
const gateway = await startGateway({
  dataDir,
  credentials: { accessKeyId, secretAccessKey },
  buckets: ['inbox'],
  onObjectCreated: () => new Promise<void>(() => {}),
});
process.stdout.write(`${gateway.endpoint}\n`);
