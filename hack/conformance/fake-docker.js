#!/usr/bin/env node
// A stand-in for the docker CLI that lets the reference devcontainer CLI run
// `devcontainer build` without a Docker engine: it answers the version
// probes, answers `inspect --type image` from $FAKE_DOCKER_DIR/images.json,
// and for `buildx build` copies the generated Dockerfile and the feature
// build context to $FAKE_DOCKER_DIR/capture/ instead of building.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.env.FAKE_DOCKER_DIR;
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'calls.log'), JSON.stringify(args) + '\n');

function done(out, code) {
	if (out !== undefined) process.stdout.write(out + '\n');
	process.exit(code || 0);
}

if (args[0] === 'buildx' && args[1] === 'version') done('github.com/docker/buildx v0.38.2 0000000');
if (args[0] === '-v') done('Docker version 28.5.2, build 0000000');
if (args[0] === 'version') done('28.5.2');
if (args[0] === 'inspect' && args[1] === '--type' && args[2] === 'image') {
	const images = JSON.parse(fs.readFileSync(path.join(dir, 'images.json'), 'utf8'));
	const img = images[args[3]];
	if (!img) {
		process.stderr.write(`Error: No such image: ${args[3]}\n`);
		process.exit(1);
	}
	done(JSON.stringify([{
		Id: 'sha256:' + '1'.repeat(64),
		Config: { User: img.User || '', Env: img.Env || [], Labels: img.Labels || null },
		Os: 'linux', Architecture: 'amd64',
	}]));
}
if (args[0] === 'buildx' && args[1] === 'build') {
	const capture = path.join(dir, 'capture');
	fs.rmSync(capture, { recursive: true, force: true });
	fs.mkdirSync(capture, { recursive: true });
	for (let i = 2; i < args.length; i++) {
		if (args[i] === '-f') {
			fs.copyFileSync(args[++i], path.join(capture, 'Dockerfile'));
		} else if (args[i] === '--build-context') {
			const [name, src] = args[++i].split(/=(.*)/s);
			fs.cpSync(src, path.join(capture, 'contexts', name), { recursive: true });
		}
	}
	fs.writeFileSync(path.join(capture, 'args.json'), JSON.stringify(args));
	done();
}
process.stderr.write(`fake docker: unsupported command ${JSON.stringify(args)}\n`);
process.exit(1);
