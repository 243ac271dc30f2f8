// s3rver as the tests and the benchmark run it: on 127.0.0.1 (a free port), one bucket, its objects under
// `directory`. One change to it: a deletion leaves the folders the object was in. s3rver removes a folder
// once it is empty, and a put into that folder that has just made it (its mkdir done, its file not yet
// opened) then fails with ENOENT on an unwatched stream, which kills the process that runs s3rver. S3 has no
// folders and no such race, so keeping them changes nothing a client can see.
import { rm } from "node:fs/promises";
import S3rver from "s3rver";

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resourceType: string): string;
  deleteObject(bucket: string, key: string): Promise<void>;
}

export async function startS3rver(
  directory: string,
  bucket: string,
): Promise<{ server: S3rver; endpoint: string }> {
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const store = (server as unknown as { store: FilesystemStore }).store;
  // The files s3rver keeps for one object: the same three its own deleteObject removes.
  store.deleteObject = async (b, key) => {
    await Promise.all(
      ["object", "object.md5", "metadata.json"].map((type) =>
        rm(store.getResourcePath(b, key, type), { force: true }),
      ),
    );
  };
  const { port } = await server.run();
  return { server, endpoint: `http://127.0.0.1:${port}` };
}
