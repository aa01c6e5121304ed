/**
 * The stage a CI job guards, from the job's name. GitLab names the copies of a parallel job
 * `lint 1/3`, `lint 2/3`… and those of a `parallel: matrix` job `lint: [node-20, linux]`; each
 * copy guards the stage the job was written for. GitHub's job id (GITHUB_JOB) carries no matrix
 * suffix, so its names pass through unchanged.
 */
export function jobStageName(name: string): string {
  const parallel = / \d+\/\d+$/.exec(name);
  if (parallel && parallel.index > 0) return name.slice(0, parallel.index);
  const matrix = name.lastIndexOf(": [");
  if (matrix > 0 && name.endsWith("]")) return name.slice(0, matrix);
  return name;
}
