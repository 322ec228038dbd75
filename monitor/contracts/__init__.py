"""Contracts: the typed model of data products, and the loaders of every supported format."""

from monitor.contracts.loader import Registry, load_contracts
from monitor.contracts.model import (
    Consumer,
    DataProduct,
    Indicator,
    MaintenanceWindow,
    Objective,
    Owner,
    Port,
)
from monitor.contracts.problems import Problem

__all__ = ["Consumer", "DataProduct", "Indicator", "MaintenanceWindow", "Objective", "Owner",
           "Port", "Problem", "Registry", "load_contracts"]
