"""Loading the virt driver named by [compute] compute_driver."""

from nova import test
from nova.virt import driver
from nova.virt import fake


class LoadComputeDriverTestCase(test.TestCase):
    def test_default_is_the_fake_driver(self):
        loaded = driver.load_compute_driver('host1')
        self.assertIsInstance(loaded, fake.FakeDriver)
        self.assertEqual('host1', loaded.host)

    def test_full_path(self):
        self.flags(group='compute', compute_driver='nova.virt.fake.FakeDriver')
        self.assertIsInstance(driver.load_compute_driver('h'), fake.FakeDriver)

    def test_typo_fails_loudly(self):
        self.flags(group='compute', compute_driver='fake.FakeDriverr')
        exc = self.assertRaises(
            driver.ComputeDriverNotFound, driver.load_compute_driver, 'h'
        )
        self.assertIn('fake.FakeDriverr', str(exc))

    def test_not_a_driver(self):
        self.flags(group='compute', compute_driver='fake.threading.Thread')
        self.assertRaises(
            driver.ComputeDriverNotFound, driver.load_compute_driver, 'h'
        )

    def test_base_class_operations_are_abstract(self):
        base = driver.ComputeDriver('h')
        self.assertRaises(NotImplementedError, base.spawn, {'uuid': 'u'})
        self.assertRaises(NotImplementedError, base.get_available_resource)
