import { assertReachable, assertRoutesConverged, type Scenario } from "./context.ts";

/** A third switch joins the running network through the API; hosts on A, B and C all reach each other. */
export const threeSwitches: Scenario = {
  name: "three switches: C joins live; hosts spread over A, B and C all reach each other",
  async run({ lab, log }) {
    const started = Date.now();
    const c = await lab.addSwitch("c");
    await lab.waitOnline(c, 60_000);
    await lab.waitBackbone();
    const host5 = await lab.addHost("host5");
    await lab.waitApplied();
    await lab.startHost(host5, c);
    await lab.waitSessionOn(host5, c);
    log(`switch C and host5 up ${Date.now() - started} ms after C was created`);
    const hosts = ["host1", "host2", "host3", "host5"].map((name) => lab.host(name));
    await assertReachable(
      lab,
      hosts.flatMap((from) => hosts.filter((to) => to !== from).map((to) => [from, to.dataAddress] as const)),
      15_000,
    );
    await assertRoutesConverged(lab, lab.state.switches);
  },
};
