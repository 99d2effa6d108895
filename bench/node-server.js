// bench/node-server.js PORT BODYFILE: a plain Node.js http server that
// answers every request with the same JSON body (the sandbox's own answer
// to read-domain), keep-alive on: the baseline of bench/sandbox.sh.
'use strict';
const http = require('http');
const fs = require('fs');
const body = fs.readFileSync(process.argv[3]);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 30000;
server.listen(Number(process.argv[2]) || 0, '127.0.0.1', () => {
  console.log('http://127.0.0.1:' + server.address().port);
});
