import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export interface TestCertificates {
  caCert: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  /** Signed by another CA: a broker that verifies peers refuses it. */
  stranger: { cert: string; key: string };
}

/** A CA, a server certificate for localhost/127.0.0.1 and client certificates, made with openssl in `dir`. */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const path = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execa('openssl', args, { cwd: dir });
  const ca = async (name: string) => {
    await openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.pem`),
    ]);
    return { cert: path(`${name}.pem`), key: path(`${name}.key`) };
  };
  const signed = async (name: string, issuer: { cert: string; key: string }, extensions: string) => {
    writeFileSync(path(`${name}.ext`), extensions);
    await openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.csr`),
    ]);
    await openssl([
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      issuer.cert,
      '-CAkey',
      issuer.key,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      path(`${name}.ext`),
      '-out',
      path(`${name}.pem`),
    ]);
    return { cert: path(`${name}.pem`), key: path(`${name}.key`) };
  };
  const authority = await ca('test-ca');
  const other = await ca('other-ca');
  return {
    caCert: authority.cert,
    server: await signed(
      'localhost',
      authority,
      'subjectAltName = DNS:localhost, IP:127.0.0.1\nextendedKeyUsage = serverAuth\n',
    ),
    client: await signed('compose-publisher', authority, 'extendedKeyUsage = clientAuth\n'),
    stranger: await signed('stranger', other, 'extendedKeyUsage = clientAuth\n'),
  };
}
