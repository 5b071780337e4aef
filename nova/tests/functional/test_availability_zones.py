"""``/os-availability-zone`` as stock nova answers it."""

from nova.tests.functional import base


class AvailabilityZonesTest(base.RestApiTestCase):
    compute_hosts = ('host1', 'host2')

    def zones(self, path='', **kwargs):
        response = self.call('GET', '/os-availability-zone' + path, **kwargs)
        return response

    def test_list_shows_the_compute_zones_without_hosts(self):
        response = self.zones()
        self.assertEqual(200, response.status_int, response.body)
        self.assertEqual(
            {
                'availabilityZoneInfo': [
                    {
                        'zoneName': 'nova',
                        'zoneState': {'available': True},
                        'hosts': None,
                    }
                ]
            },
            response.json,
        )

    def test_detail_is_for_admins_with_every_service(self):
        response = self.zones('/detail')
        self.assertEqual(403, response.status_int, response.body)
        response = self.zones('/detail', user='admin', project='admin')
        self.assertEqual(200, response.status_int, response.body)
        zones = {
            z['zoneName']: z for z in response.json['availabilityZoneInfo']
        }
        self.assertEqual(['internal', 'nova'], list(zones))
        nova = zones['nova']
        self.assertEqual({'available': True}, nova['zoneState'])
        self.assertEqual({'host1', 'host2'}, set(nova['hosts']))
        compute = nova['hosts']['host1']['nova-compute']
        self.assertEqual(
            (True, True), (compute['available'], compute['active'])
        )
        self.assertRegex(compute['updated_at'], r'^\d{4}-\d\d-\d\dT')
        internal = {
            binary
            for services in zones['internal']['hosts'].values()
            for binary in services
        }
        self.assertEqual({'nova-conductor', 'nova-scheduler'}, internal)

    def test_a_zone_whose_computes_are_all_disabled_is_unavailable(self):
        with self.db.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE services SET disabled = 1 WHERE "
                "\"binary\" = 'nova-compute'"
            )
        zone = self.zones().json['availabilityZoneInfo'][0]
        self.assertEqual({'available': False}, zone['zoneState'])
        detail = self.zones('/detail', user='admin', project='admin').json
        nova = [
            z
            for z in detail['availabilityZoneInfo']
            if z['zoneName'] == 'nova'
        ][0]
        self.assertEqual(
            (False, False),
            (
                nova['hosts']['host1']['nova-compute']['available'],
                nova['hosts']['host1']['nova-compute']['active'],
            ),
        )
