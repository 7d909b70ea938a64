// Minimal typings for the parts of jstat (https://github.com/jstat/jstat) scalpel uses.
declare module "jstat" {
  interface JStat {
    studentt: { cdf(x: number, dof: number): number; inv(p: number, dof: number): number };
    normal: { cdf(x: number, mean: number, std: number): number; inv(p: number, mean: number, std: number): number };
    erf(x: number): number;
    erfc(x: number): number;
  }
  const jStat: JStat;
  export default jStat;
}
