/**
 * @peculiar/x509, ready to use. The library resolves its algorithm providers through tsyringe,
 * which needs the Reflect metadata polyfill loaded before it; ES modules evaluate imports in
 * order, so importing x509 from here guarantees that.
 */
import 'reflect-metadata';

export * from '@peculiar/x509';
