/** The local Kubernetes used by `landlord up`, `landlord cluster …` and the test suites. */
export { startCluster, attachCluster, type ClusterOptions, type DevCluster } from './cluster.ts';
export type { Identity } from './certificates.ts';
export { ensureBinaries, locateBinaries } from './binaries.ts';
export { buildLandlordImage, buildPostgresImage, buildTestAppImage, landlordImage, postgresImage, testAppImage } from './image/images.ts';
export { nodeNetwork } from './layout.ts';
