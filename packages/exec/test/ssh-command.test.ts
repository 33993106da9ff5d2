import { accessSync, constants, statSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { testdir } from '@rsb/testkit'
import { describe, expect, it } from 'vitest'
import { parseSshCommand, parseSshG } from '../src/index.ts'

/** The program a shell finds for NAME on this process's PATH: the first executable file of that name. */
function which(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir || '.', name)
    try {
      accessSync(candidate, constants.X_OK)
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is not on PATH`)
}

describe('parseSshCommand: $RSYNC_RSH for rsb’s own connection', () => {
  it.each([
    ['ssh', [], []],
    ['/usr/bin/ssh -p 2222', ['-p', '2222'], []],
    ['ssh -p2222 -lbackup -i/root/key -FFILE', ['-p', '2222', '-l', 'backup', '-i', '/root/key', '-F', 'FILE'], []],
    [
      'ssh -o Port=2222 -oUser=backup -o "IdentityFile /root/my key"',
      ['-o', 'Port=2222', '-o', 'User=backup', '-o', 'IdentityFile /root/my key'],
      [],
    ],
    ["ssh -F '/etc/rsb/ssh config' -i \"/root/it's key\"", ['-F', '/etc/rsb/ssh config', '-i', "/root/it's key"], []],
    ['ssh -4 -6 -b 127.0.0.2 -P tag', ['-4', '-6', '-b', '127.0.0.2', '-P', 'tag'], []],
    // a cluster: flags, then an option whose value is the rest of the word or the next word
    ['ssh -vCp 2222 -qTl backup', ['-p', '2222', '-l', 'backup'], ['-v', '-C', '-q', '-T']],
    ['ssh -vp2222', ['-p', '2222'], ['-v']],
    [
      'ssh -c aes128-gcm@openssh.com -m hmac-sha2-256 -x -X -Y -A -a -t -T -n -f -g -k -K -M -y -1 -2 -e none',
      [],
      [
        '-c',
        'aes128-gcm@openssh.com',
        '-m',
        'hmac-sha2-256',
        '-x',
        '-X',
        '-Y',
        '-A',
        '-a',
        '-t',
        '-T',
        '-n',
        '-f',
        '-g',
        '-k',
        '-K',
        '-M',
        '-y',
        '-1',
        '-2',
        '-e',
        'none',
      ],
    ],
    [
      'ssh -L 8080:localhost:80 -R 9:x:9 -D 1080 -S /tmp/ctl -E /tmp/log -w 0:1',
      [],
      ['-L', '8080:localhost:80', '-R', '9:x:9', '-D', '1080', '-S', '/tmp/ctl', '-E', '/tmp/log', '-w', '0:1'],
    ],
    // -o keys ssh -G checks and rsb does not use still go to ssh -G, which validates them
    ['ssh -o Compression=no -o "ServerAliveInterval 5"', ['-o', 'Compression=no', '-o', 'ServerAliveInterval 5'], []],
    // a value that starts with a dash is still the option's value, as for ssh's getopt
    ['ssh -l -x', ['-l', '-x'], []],
  ])('%s', (text, sshArgs, ignored) => {
    const command = parseSshCommand(text)
    expect(command.unsupported).toBeUndefined()
    expect(command.sshArgs).toEqual(sshArgs)
    expect(command.ignored).toEqual(ignored)
  })

  it('splits words as rsync does: at spaces, with single and double quotes', () => {
    expect(parseSshCommand(`ssh  -o 'User=a b'   -o "Port 22" -i a"b c"d -i 'x'"y"`).words).toEqual([
      'ssh',
      '-o',
      'User=a b',
      '-o',
      'Port 22',
      '-i',
      'ab cd',
      '-i',
      'xy',
    ])
    expect(parseSshCommand(`ssh -i "it's" -i '"q"' -i {a,b} -i ~/k -i a=b -i %h`).words).toEqual([
      'ssh',
      '-i',
      "it's",
      '-i',
      '"q"',
      '-i',
      '{a,b}',
      '-i',
      '~/k',
      '-i',
      'a=b',
      '-i',
      '%h',
    ])
  })

  it.each([
    ['sshpass -p secret ssh', "its program is 'sshpass', not ssh"],
    ['autossh -M 0', "its program is 'autossh', not ssh"],
    ['ssh-wrapper', "its program is 'ssh-wrapper', not ssh"],
    ['bin/ssh -p 22', "its program 'bin/ssh' is a relative path, neither ssh nor the absolute path of the ssh on PATH"],
    ['./ssh', "its program './ssh' is a relative path, neither ssh nor the absolute path of the ssh on PATH"],
    ['', 'it names no program'],
    ['ssh -J jump@gateway', 'it uses a jump host (-J)'],
    ['ssh -Jjump', 'it uses a jump host (-J)'],
    ['ssh -vJ jump', 'it uses a jump host (-J)'],
    ['ssh -o ProxyJump=jump', 'it uses a jump host (ProxyJump)'],
    ['ssh -oproxyjump=jump', 'it uses a jump host (ProxyJump)'],
    ["ssh -o 'ProxyCommand nc %h %p'", 'it uses a proxy command (ProxyCommand)'],
    ['ssh -o " ProxyCommand=nc"', 'it uses a proxy command (ProxyCommand)'],
    ['ssh -W host:22', 'it uses stdio forwarding (-W)'],
    ['ssh -B eth0', 'it binds to a network interface (-B)'],
    ['ssh -o BindInterface=eth0', 'it binds to a network interface (BindInterface)'],
    ['ssh -I /usr/lib/opensc-pkcs11.so', 'it uses a PKCS#11 provider (-I)'],
    ['ssh -o CertificateFile=/root/key-cert.pub', 'it uses a user certificate (CertificateFile)'],
    ['ssh -o KnownHostsCommand=/bin/true', 'it uses a command for known host keys (KnownHostsCommand)'],
    ['ssh -o RemoteCommand=true', 'it uses a remote command (RemoteCommand)'],
    ['ssh -N', 'it holds -N, which does not make ssh a remote shell'],
    ['ssh -G', 'it holds -G, which does not make ssh a remote shell'],
    ['ssh -s', 'it holds -s, which does not make ssh a remote shell'],
    ['ssh -Z', 'it holds -Z, which is not an ssh option'],
    ['ssh -p', 'its -p has no value'],
    ['ssh -vo', 'its -o has no value'],
    ['ssh backup@nas', "it holds 'backup@nas', which is not an ssh option (rsync adds the host and the command)"],
    ['ssh -- -p 22', "it holds '--', which is not an ssh option (rsync adds the host and the command)"],
    // what rsync (no shell) and a shell read differently is refused rather than guessed at
    ['ssh -i $HOME/key', "it holds '$', which rsync reads differently from a shell"],
    ['ssh -i "${HOME}/key"', "it holds '$', which rsync reads differently from a shell"],
    ['ssh -i my\\ key', "it holds '\\\\', which rsync reads differently from a shell"],
    ['ssh -i `key`', "it holds '`', which rsync reads differently from a shell"],
    ['ssh\t-p 22', "it holds '\\t', which rsync reads differently from a shell"],
    ['ssh -p 22\n', "it holds '\\n', which rsync reads differently from a shell"],
    ["ssh -i 'it''s'", "it holds '''', which rsync reads differently from a shell"],
    ['ssh -i "a""b"', `it holds '\\"\\"', which rsync reads differently from a shell`],
    ['ssh -p 22; rm -rf /', "it holds ';', which rsync reads differently from a shell"],
    ['ssh -p 22 | tee', "it holds '|', which rsync reads differently from a shell"],
    ['ssh -i /keys/*', "it holds '/keys/*', which rsync reads differently from a shell"],
    ['ssh -i key#1', "it holds '#', which rsync reads differently from a shell"],
    ["ssh -o 'User=x", "it has an unbalanced ', which rsync refuses too"],
    ['ssh -o "User=x', 'it has an unbalanced ", which rsync refuses too'],
  ])('refuses %j', (text, reason) => {
    const command = parseSshCommand(text)
    expect(command.unsupported).toBe(reason)
  })

  it('a refusal never repeats a secret that stands elsewhere in the command line', () => {
    expect(parseSshCommand('sshpass -p hunter2 ssh -p 22').unsupported).not.toContain('hunter2')
    expect(parseSshCommand('ssh -o ProxyCommand=hunter2 -p 22').unsupported).not.toContain('hunter2')
  })

  it('-o keywords that look like Object properties are ordinary keywords for ssh -G to judge', () => {
    expect(parseSshCommand('ssh -o constructor=x -o __proto__=y')).toMatchObject({
      unsupported: undefined,
      sshArgs: ['-o', 'constructor=x', '-o', '__proto__=y'],
    })
  })
})

describe('parseSshCommand: an absolute program must be the ssh that rsb’s own ssh -G runs (the one on PATH)', () => {
  /** A directory with `bin/ssh` (a wrapper script that adds its own port, as the review's), a link and a copy of the real one. */
  async function programs(): Promise<{ dir: string; real: string }> {
    const dir = await testdir()
    await fs.mkdir(path.join(dir, 'bin'))
    await fs.mkdir(path.join(dir, 'links'))
    const real = await fs.realpath(which('ssh'))
    await fs.writeFile(path.join(dir, 'bin/ssh'), `#!/bin/sh\nexec ${real} -p 2423 "$@"\n`, { mode: 0o755 })
    await fs.symlink(real, path.join(dir, 'links/ssh'))
    await fs.symlink(real, path.join(dir, 'links/my-ssh'))
    await fs.copyFile(real, path.join(dir, 'copy-of-ssh'))
    return { dir, real }
  }

  it('accepts ssh, the absolute path of the ssh on PATH, and links to it', async () => {
    const { dir, real } = await programs()
    const onPath = which('ssh')
    for (const program of ['ssh', onPath, real, path.join(dir, 'links/ssh'), path.join(dir, 'links/my-ssh')]) {
      const command = parseSshCommand(`${program} -F cfg -p 2222`)
      expect(command.unsupported, program).toBeUndefined()
      expect(command.sshArgs).toEqual(['-F', 'cfg', '-p', '2222'])
    }
    // the ssh on another PATH: its link there is that ssh
    expect(parseSshCommand(`${path.join(dir, 'links/ssh')} -p 2`, { path: path.join(dir, 'links') }).unsupported).toBeUndefined()
  })

  it('refuses a wrapper named ssh, a copy of ssh, a missing file and a directory: rsync would run them, rsb’s ssh -G would not', async () => {
    const { dir } = await programs()
    const onPath = which('ssh')
    for (const program of [
      path.join(dir, 'bin/ssh'),
      path.join(dir, 'copy-of-ssh'),
      path.join(dir, 'missing/ssh'),
      path.join(dir, 'links'),
    ]) {
      expect(parseSshCommand(`${program} -F cfg`).unsupported, program).toBe(
        `its program '${program}' is not the ssh on PATH (${onPath}), which rsb's own connection runs`,
      )
    }
    // the wrapper first on PATH: then `ssh` is the wrapper for rsync and ssh -G alike, and the real ssh is not it
    expect(parseSshCommand('ssh -p 22', { path: path.join(dir, 'bin') }).unsupported).toBeUndefined()
    expect(parseSshCommand(`${onPath} -p 22`, { path: `${path.join(dir, 'bin')}:/usr/bin:/bin` }).unsupported).toBe(
      `its program '${onPath}' is not the ssh on PATH (${path.join(dir, 'bin/ssh')}), which rsb's own connection runs`,
    )
    expect(parseSshCommand(`${onPath} -p 22`, { path: path.join(dir, 'nothing') }).unsupported).toBe(
      `its program '${onPath}' cannot be told to be the ssh that rsb's own connection runs: there is no ssh on PATH`,
    )
  })
})

describe('parseSshG: the settings rsb’s connection follows beyond host, user and port', () => {
  it('reads AddressFamily, BindAddress, IdentityAgent, ProxyJump and ProxyCommand', () => {
    const config = parseSshG(
      'nas',
      [
        'hostname 127.0.0.1',
        'user backup',
        'port 2222',
        'addressfamily inet',
        'bindaddress 127.0.0.2',
        'identityagent /run/agent.sock',
        'proxyjump gateway',
        'proxycommand nc %h %p',
      ].join('\n'),
    )
    expect(config).toMatchObject({
      addressFamily: 'inet',
      bindAddress: '127.0.0.2',
      identityAgent: '/run/agent.sock',
      proxyJump: 'gateway',
      proxyCommand: 'nc %h %p',
    })
  })

  it('defaults: any address family, no bind address, agent and proxies unset (none counts as unset)', () => {
    const config = parseSshG('nas', ['hostname nas', 'addressfamily any', 'proxyjump none', 'proxycommand NONE'].join('\n'))
    expect(config).toMatchObject({
      addressFamily: 'any',
      bindAddress: undefined,
      identityAgent: undefined,
      proxyJump: undefined,
      proxyCommand: undefined,
    })
    expect(parseSshG('nas', 'addressfamily inet6').addressFamily).toBe('inet6')
  })
})
