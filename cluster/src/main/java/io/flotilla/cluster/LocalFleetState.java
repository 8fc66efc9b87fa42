package io.flotilla.cluster;

import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.config.ConfigStore;
import io.flotilla.cluster.health.HealthRegistry;
import io.flotilla.cluster.membership.Membership;
import io.flotilla.cluster.rate.RateCounters;
import io.flotilla.cluster.tickets.TicketKeyRing;

/** The state of a lone node: each part in process. */
record LocalFleetState(
        ClusterSettings settings,
        ResponseStore responses,
        HealthRegistry health,
        RateCounters rates,
        ConfigStore config,
        TicketKeyRing tickets,
        Membership membership)
        implements FleetState {

    LocalFleetState(ClusterSettings settings) {
        this(
                settings,
                ResponseStore.local(settings.cacheMaxBytes()),
                HealthRegistry.local(settings.memberId()),
                RateCounters.local(),
                ConfigStore.local(settings.memberId()),
                TicketKeyRing.local(System::currentTimeMillis),
                Membership.local(settings.memberId()));
    }

    @Override
    public void close() {
        responses.close();
        health.close();
        rates.close();
        config.close();
        tickets.close();
        membership.close();
    }
}
