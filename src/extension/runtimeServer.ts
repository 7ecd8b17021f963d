// Entry of the runtime process (dist/runtimeServer.js), forked by the extension host. It owns RDKit, the
// recognizer, the model and the tag bundles, and answers the requests in ./protocol over the IPC channel.
// Nothing here may assume the extension host survives a crash, or the other way round.
import { createMessageConnection, IPCMessageReader, IPCMessageWriter } from 'vscode-jsonrpc/node';
import { CheckGpu, Configure, DataColumns, Describe, Evaluate, ExportTrainingJob, InfoNotification, Predict, Scan, TrainDomainTag, TrainFunctionTag, TrainProgressNotification } from './protocol';
import { RuntimeService } from './server/runtimeService';

const connection = createMessageConnection(new IPCMessageReader(process), new IPCMessageWriter(process));
const service = new RuntimeService(
  (line) => process.stderr.write(`${line}\n`),
  (info) => void connection.sendNotification(InfoNotification, info),
);

connection.onRequest(Configure, (config) => service.configure(config));
connection.onRequest(Scan, (params) => service.scan(params));
connection.onRequest(Describe, (ref) => service.describe(ref));
connection.onRequest(Predict, (ref) => service.predict(ref));
connection.onRequest(TrainFunctionTag, (params, token) => service.trainFunctionTag(params, token, (p) => void connection.sendNotification(TrainProgressNotification, p)));
connection.onRequest(TrainDomainTag, (params, token) => service.trainDomainTag(params, token, (p) => void connection.sendNotification(TrainProgressNotification, p)));
connection.onRequest(DataColumns, ({ dataPath }) => service.dataColumns(dataPath));
connection.onRequest(Evaluate, (params, token) => service.evaluate(params, token));
connection.onRequest(CheckGpu, () => service.checkGpu());
connection.onRequest(ExportTrainingJob, (params) => service.exportJob(params));
// The extension host went away: nobody is left to answer to.
connection.onClose(() => process.exit(0));
process.on('disconnect', () => process.exit(0));
connection.listen();
